//! The tch policy: K samples per prompt from the round's checkpoint (Qwen2, or LLaVA-OneVision for
//! prompts with images), the question rendered with the checkpoint's chat template, sampled with the
//! request's seed, temperature, top-p and max new tokens and the checkpoint's stop tokens. Requests that
//! share a checkpoint and sampling settings run together, `generate_batch_size` prompts per forward pass;
//! a prompt's samples are the same whatever batch it runs in (each prompt has its own random streams).

use std::collections::BTreeMap;
use std::sync::Arc;

use backend::{BackendError, GenerateRequest, Policy};
use model::{GenerateConfig, Sampling};

use crate::batches::{Item, generate_items};
use crate::checkpoints::Checkpoints;
use crate::host::ModelHost;
use crate::images::Images;
use crate::loaded::Turn;

pub struct TchPolicy {
    pub(crate) host: Arc<ModelHost>,
    pub(crate) checkpoints: Arc<Checkpoints>,
    pub(crate) images: Images,
    pub(crate) batch_size: usize,
}

/// The generation settings of a request, checked; each error names its field.
pub fn generate_config(r: &GenerateRequest) -> Result<GenerateConfig, BackendError> {
    let bad = |m: String| Err(BackendError::Permanent(m));
    if r.samples == 0 {
        return bad("samples must be at least 1".into());
    }
    if !(r.temperature.is_finite() && r.temperature >= 0.0) {
        return bad(format!("temperature must be 0 (greedy) or more, is {}", r.temperature));
    }
    if !(r.top_p > 0.0 && r.top_p <= 1.0) {
        return bad(format!("top_p must be in (0, 1], is {}", r.top_p));
    }
    let sampling = if r.temperature == 0.0 {
        Sampling::Greedy
    } else {
        Sampling::Random { temperature: r.temperature, top_k: None, top_p: (r.top_p < 1.0).then_some(r.top_p) }
    };
    Ok(GenerateConfig {
        max_new_tokens: r.max_new_tokens as usize,
        sampling,
        samples_per_prompt: r.samples as usize,
        seed: r.seed,
        ..GenerateConfig::default()
    })
}

/// Requests that can share a forward pass: same checkpoint and settings (the seed is per prompt).
type GroupKey = (String, u64, u64, u32, u32);

impl Policy for TchPolicy {
    fn generate(&self, batch: &[GenerateRequest]) -> Vec<Result<Vec<String>, BackendError>> {
        let span = tracing::info_span!("tch.generate", requests = batch.len());
        let _entered = span.enter();
        let mut out: Vec<Option<Result<Vec<String>, BackendError>>> = vec![None; batch.len()];
        let mut groups: BTreeMap<GroupKey, (GenerateConfig, Vec<Item>)> = BTreeMap::new();
        for (index, r) in batch.iter().enumerate() {
            let prepared = generate_config(r).and_then(|cfg| {
                let image = r.image.as_deref().map(|i| self.images.fetch(i)).transpose()?;
                Ok((cfg, image))
            });
            let (cfg, image) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    out[index] = Some(Err(e));
                    continue;
                }
            };
            let key =
                (r.checkpoint_uri.clone(), r.temperature.to_bits(), r.top_p.to_bits(), r.samples, r.max_new_tokens);
            let item = Item { index, turn: Turn { text: r.question.clone(), image }, seed: r.seed };
            groups.entry(key).or_insert_with(|| (cfg, Vec::new())).1.push(item);
        }
        for ((uri, ..), (cfg, items)) in groups {
            let indices: Vec<usize> = items.iter().map(|i| i.index).collect();
            let batch_size = self.batch_size;
            let answers = self.checkpoints.resolve(&uri).and_then(|dir| {
                let _span =
                    tracing::info_span!("tch.generate.group", checkpoint = %uri, prompts = items.len()).entered();
                self.host.call(move |cache| match cache.get(&dir, &uri) {
                    Ok(loaded) => generate_items(loaded, items, &cfg, batch_size),
                    Err(e) => items.iter().map(|i| (i.index, Err(e.clone()))).collect(),
                })
            });
            match answers {
                Ok(answers) => answers.into_iter().for_each(|(i, a)| out[i] = Some(a)),
                Err(e) => indices.into_iter().for_each(|i| out[i] = Some(Err(e.clone()))),
            }
        }
        out.into_iter()
            .map(|a| a.unwrap_or_else(|| Err(BackendError::Transient("no answer for the request".into()))))
            .collect()
    }
}
