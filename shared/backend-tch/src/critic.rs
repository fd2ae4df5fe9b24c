//! The tch critic: the rendered critic prompt as the user message of the critic checkpoint's chat
//! template, with the item's image (fetched from the artifact store and decoded) before it, decoded
//! greedily up to `critic_max_new_tokens`; the raw text is the answer. Requests for one checkpoint run
//! `judge_batch_size` per forward pass; a missing or corrupt image fails its item only, naming it.

use std::collections::BTreeMap;
use std::sync::Arc;

use backend::{BackendError, Critic, JudgeRequest};
use model::{GenerateConfig, Sampling};

use crate::batches::{Item, generate_items};
use crate::checkpoints::Checkpoints;
use crate::host::ModelHost;
use crate::images::Images;
use crate::loaded::Turn;

/// The image placeholder LLaVA-Critic's prompts start with (`critic::templates::with_image_token`).
const IMAGE_PREFIX: &str = "<image>\n";

pub struct TchCritic {
    pub(crate) host: Arc<ModelHost>,
    pub(crate) checkpoints: Arc<Checkpoints>,
    pub(crate) images: Images,
    pub(crate) batch_size: usize,
    pub(crate) max_new_tokens: usize,
}

/// The user message's text: the prompt without its leading `<image>` placeholder, since the chat template
/// places the image itself (and a prompt without an image has nothing to show).
pub fn critic_text(prompt: &str) -> &str {
    prompt.strip_prefix(IMAGE_PREFIX).unwrap_or(prompt)
}

impl Critic for TchCritic {
    fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>> {
        let span = tracing::info_span!("tch.judge", requests = batch.len());
        let _entered = span.enter();
        let mut out: Vec<Option<Result<String, BackendError>>> = vec![None; batch.len()];
        let mut groups: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for (index, r) in batch.iter().enumerate() {
            let image = match r.image.as_deref().map(|i| self.images.fetch(i)).transpose() {
                Ok(image) => image,
                Err(e) => {
                    out[index] = Some(Err(e));
                    continue;
                }
            };
            let turn = Turn { text: critic_text(&r.prompt).to_string(), image };
            groups.entry(r.critic_uri.clone()).or_default().push(Item { index, turn, seed: 0 });
        }
        let cfg = GenerateConfig {
            max_new_tokens: self.max_new_tokens,
            sampling: Sampling::Greedy,
            samples_per_prompt: 1,
            ..GenerateConfig::default()
        };
        for (uri, items) in groups {
            let indices: Vec<usize> = items.iter().map(|i| i.index).collect();
            let (cfg, batch_size) = (cfg.clone(), self.batch_size);
            let answers = self.checkpoints.resolve(&uri).and_then(|dir| {
                let _span = tracing::info_span!("tch.judge.group", critic = %uri, requests = items.len()).entered();
                self.host.call(move |cache| match cache.get(&dir, &uri) {
                    Ok(loaded) => generate_items(loaded, items, &cfg, batch_size),
                    Err(e) => items.iter().map(|i| (i.index, Err(e.clone()))).collect(),
                })
            });
            match answers {
                Ok(answers) => {
                    for (i, a) in answers {
                        out[i] = Some(a.map(|mut samples| samples.pop().unwrap_or_default()));
                    }
                }
                Err(e) => indices.into_iter().for_each(|i| out[i] = Some(Err(e.clone()))),
            }
        }
        out.into_iter()
            .map(|a| a.unwrap_or_else(|| Err(BackendError::Transient("no answer for the request".into()))))
            .collect()
    }
}
