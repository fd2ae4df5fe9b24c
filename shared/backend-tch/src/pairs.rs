//! A round's pairs in the form the DPO trainer tokenises: TRL's conversational format when the checkpoint
//! has a chat template (the question as the user's message, each response as the assistant's), plain
//! text otherwise. Public so tests can score the pairs exactly as they were trained.

use backend::TrainPair;
use model::{ChatTemplate, TextTokenizer};
use serde_json::{Value, json};
use train::{BadPair, BadPairReason, PairSet, PairTokenizer};

/// The TRL-format object of `pair` (`{"id", "prompt", "chosen", "rejected"}`).
pub fn trl_pair(pair: &TrainPair, conversational: bool) -> Value {
    if conversational {
        json!({
            "id": pair.id,
            "prompt": [{"role": "user", "content": pair.prompt}],
            "chosen": [{"role": "assistant", "content": pair.chosen}],
            "rejected": [{"role": "assistant", "content": pair.rejected}],
        })
    } else {
        json!({"id": pair.id, "prompt": pair.prompt, "chosen": pair.chosen, "rejected": pair.rejected})
    }
}

/// Tokenises every pair with the checkpoint's tokenizer and chat template. Pairs that cannot be trained
/// on (an image for a text-only model, an empty response, longer than `max_length`, ...) are reported in
/// `bad` with their id; the order of the rest is kept.
pub fn tokenize(
    pairs: &[TrainPair],
    tokenizer: &TextTokenizer,
    chat_template: Option<&ChatTemplate>,
    max_length: usize,
) -> PairSet {
    let tok = PairTokenizer { tokenizer, chat_template, max_length };
    let mut set = PairSet::default();
    for (i, pair) in pairs.iter().enumerate() {
        let line = i + 1;
        let result = match &pair.image {
            Some(image) => Err(BadPairReason::Tokenize(format!(
                "the prompt has an image ({image}); the tch trainer trains text-only Qwen2 checkpoints"
            ))),
            None => tok.tokenize(&pair.id, &trl_pair(pair, chat_template.is_some())),
        };
        match result {
            Ok(p) => set.pairs.push(p),
            Err(reason) => set.bad.push(BadPair { id: pair.id.clone(), line, reason }),
        }
    }
    set
}
