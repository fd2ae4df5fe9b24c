//! Generation over a batch of requests on the model thread, answering per item: each item's prompt is
//! rendered and checked against the context, the rest run `batch` prompts per forward pass (each prompt
//! with its own seed, so its samples do not depend on its neighbours), and a pass that fails is rerun
//! item by item so that the failure lands on the item that caused it.

use backend::BackendError;
use model::GenerateConfig;

use crate::loaded::{Loaded, Turn};
use crate::trainer::model_error;

pub struct Item {
    /// The request's index in the caller's batch.
    pub index: usize,
    pub turn: Turn,
    pub seed: u64,
}

pub type Answer = (usize, Result<Vec<String>, BackendError>);

/// `[item] -> samples` for `items`, `cfg` with the checkpoint's stop tokens added.
pub fn generate_items(loaded: &Loaded, items: Vec<Item>, cfg: &GenerateConfig, batch: usize) -> Vec<Answer> {
    let cfg = GenerateConfig { stop_token_ids: loaded.stop_token_ids(), ..cfg.clone() };
    let mut answers = Vec::with_capacity(items.len());
    let mut ready = Vec::new();
    for item in items {
        let checked = loaded.render(&item.turn).and_then(|text| {
            loaded.check_length(&text, item.turn.image.as_ref(), &cfg)?;
            Ok(text)
        });
        match checked {
            Ok(text) => ready.push((item, text)),
            Err(e) => answers.push((item.index, Err(BackendError::Permanent(e)))),
        }
    }
    for chunk in ready.chunks(batch.max(1)) {
        match run(loaded, chunk, &cfg) {
            Ok(outputs) => answers.extend(chunk.iter().map(|(item, _)| item.index).zip(outputs.into_iter().map(Ok))),
            Err(e) if chunk.len() == 1 => answers.push((chunk[0].0.index, Err(model_error("generating", e)))),
            Err(e) => {
                tracing::warn!(error = %e, prompts = chunk.len(), "batched generation failed; retrying item by item");
                for one in chunk.chunks(1) {
                    let answer =
                        run(loaded, one, &cfg).map(|mut o| o.remove(0)).map_err(|e| model_error("generating", e));
                    answers.push((one[0].0.index, answer));
                }
            }
        }
    }
    answers
}

fn run(loaded: &Loaded, chunk: &[(Item, String)], cfg: &GenerateConfig) -> model::Result<Vec<Vec<String>>> {
    let prompts: Vec<(&str, Option<&model::tch::Tensor>)> =
        chunk.iter().map(|(item, text)| (text.as_str(), item.turn.image.as_ref())).collect();
    let cfg = GenerateConfig { prompt_seeds: Some(chunk.iter().map(|(item, _)| item.seed).collect()), ..cfg.clone() };
    loaded.generate(&prompts, &cfg)
}
