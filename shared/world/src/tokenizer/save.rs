//! Writing the tokenizer folder: `tokenizer.json` and a Qwen2-shaped `tokenizer_config.json`.

use std::path::Path;

use serde_json::{Map, Value, json};
use tokenizers::Tokenizer;

use super::{CHAT_TEMPLATE, SPECIAL_TOKENS, TokenizerSettings};
use crate::error::{Result, WorldError};

/// The `tokenizer_config.json` transformers (and criticloop's `model` crate) read next to `tokenizer.json`:
/// `Qwen2Tokenizer`, eos `<|im_end|>`, pad `<|endoftext|>`, no bos or unk, the special tokens in
/// `added_tokens_decoder`, `image_token` / `video_token` for LLaVA's processor, and the chat template.
pub fn tokenizer_config(tokenizer: &Tokenizer, settings: &TokenizerSettings) -> Result<Value> {
    let mut decoder = Map::new();
    for token in SPECIAL_TOKENS {
        let id = tokenizer
            .token_to_id(token)
            .ok_or_else(|| WorldError::Tokenizer(format!("the special token {token} is not in the vocabulary")))?;
        decoder.insert(
            id.to_string(),
            json!({"content": token, "lstrip": false, "normalized": false, "rstrip": false,
                   "single_word": false, "special": true}),
        );
    }
    Ok(json!({
        "add_prefix_space": false,
        "added_tokens_decoder": decoder,
        "bos_token": null,
        "chat_template": CHAT_TEMPLATE,
        "clean_up_tokenization_spaces": false,
        "eos_token": "<|im_end|>",
        "errors": "replace",
        "extra_special_tokens": {"image_token": "<image>", "video_token": "<video>"},
        "image_token": "<image>",
        "model_max_length": settings.model_max_length,
        "pad_token": "<|endoftext|>",
        "split_special_tokens": false,
        "tokenizer_class": "Qwen2Tokenizer",
        "unk_token": null,
        "video_token": "<video>",
    }))
}

/// The tokenizer [`save_tokenizer`] wrote to `dir` (its `tokenizer.json`).
pub fn load_tokenizer(dir: &Path) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    Tokenizer::from_file(&path).map_err(|e| WorldError::Tokenizer(format!("reading {}: {e}", path.display())))
}

/// Writes `dir/tokenizer.json` and `dir/tokenizer_config.json` (creating `dir`).
pub fn save_tokenizer(tokenizer: &Tokenizer, dir: &Path, settings: &TokenizerSettings) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    tokenizer.save(dir.join("tokenizer.json"), true).map_err(|e| WorldError::Tokenizer(e.to_string()))?;
    let config = tokenizer_config(tokenizer, settings)?;
    std::fs::write(dir.join("tokenizer_config.json"), serde_json::to_string_pretty(&config)?)?;
    Ok(())
}
