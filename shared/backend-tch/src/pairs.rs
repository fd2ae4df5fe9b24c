//! A round's pairs in the form the DPO trainer tokenises: TRL's conversational format when the checkpoint
//! has a chat template (the question as the user's message, each response as the assistant's), plain
//! text otherwise; a prompt's image goes in `images` (TRL's vision format), before the question, as the
//! policy saw it when it sampled. Public so tests can score the pairs exactly as they were trained.

use backend::TrainPair;
use serde_json::{Value, json};
use train::{BadPair, CheckpointText, ImageLoader, PairSet};

/// The TRL-format object of `pair` (`{"id", "prompt", "chosen", "rejected", "images"?}`).
pub fn trl_pair(pair: &TrainPair, conversational: bool) -> Value {
    let mut value = if conversational {
        json!({
            "id": pair.id,
            "prompt": [{"role": "user", "content": pair.prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}],
        })
    } else {
        // without a template, the image placeholder leads the prompt, as the policy rendered it
        let prompt = if pair.image.is_some() { format!("<image>\n{}", pair.prompt) } else { pair.prompt.clone() };
        json!({"id": pair.id, "prompt": prompt, "chosen": pair.chosen, "rejected": pair.rejected})
    };
    if let Some(image) = &pair.image {
        value["images"] = json!([image]);
    }
    value
}

/// Tokenises every pair for the checkpoint; images are read with `load_image`. Pairs that cannot be
/// trained on (an image for a text-only model, a missing image, an empty response, longer than
/// `max_length`, ...) are reported in `bad` with their id; the order of the rest is kept.
pub fn tokenize(pairs: &[TrainPair], text: &CheckpointText, max_length: usize, load_image: ImageLoader<'_>) -> PairSet {
    let tok = text.pair_tokenizer(max_length, load_image);
    let conversational = text.chat_template.is_some();
    let mut set = PairSet::default();
    for (i, pair) in pairs.iter().enumerate() {
        match tok.tokenize(&pair.id, &trl_pair(pair, conversational)) {
            Ok(p) => set.pairs.push(p),
            Err(reason) => set.bad.push(BadPair { id: pair.id.clone(), line: i + 1, reason }),
        }
    }
    set
}
