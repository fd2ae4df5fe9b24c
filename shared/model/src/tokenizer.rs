//! `tokenizer.json` through the `tokenizers` library, plus the special tokens named in
//! `tokenizer_config.json`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::{ModelError, Result, read_json};

pub struct TextTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
    special: SpecialTokens,
}

/// The special tokens transformers passes to chat templates (`bos_token`, ...), as strings.
#[derive(Debug, Clone, Default)]
pub struct SpecialTokens {
    pub bos_token: Option<String>,
    pub eos_token: Option<String>,
    pub pad_token: Option<String>,
    pub unk_token: Option<String>,
}

impl SpecialTokens {
    /// Reads `tokenizer_config.json` when present (values are strings or `{"content": ...}` objects).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer_config.json");
        if !path.is_file() {
            return Ok(SpecialTokens::default());
        }
        let v: Value = read_json(&path)?;
        let get = |key: &str| match v.get(key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o.get("content").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        Ok(SpecialTokens {
            bos_token: get("bos_token"),
            eos_token: get("eos_token"),
            pad_token: get("pad_token"),
            unk_token: get("unk_token"),
        })
    }
}

impl TextTokenizer {
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("tokenizer.json");
        if !path.is_file() {
            return Err(ModelError::MissingFile { path, what: "the tokenizer" });
        }
        let inner = tokenizers::Tokenizer::from_file(&path)
            .map_err(|e| ModelError::Tokenizer { path: path.clone(), message: e.to_string() })?;
        Ok(TextTokenizer { inner, path, special: SpecialTokens::from_dir(dir)? })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn special_tokens(&self) -> &SpecialTokens {
        &self.special
    }

    /// Token ids of `text`. transformers' `apply_chat_template(tokenize=True)` encodes the rendered text
    /// with `add_special_tokens=False`.
    pub fn encode(&self, text: &str, add_special_tokens: bool) -> Result<Vec<u32>> {
        let enc = self
            .inner
            .encode(text, add_special_tokens)
            .map_err(|e| ModelError::Tokenizer { path: self.path.clone(), message: e.to_string() })?;
        Ok(enc.get_ids().to_vec())
    }

    pub fn decode(&self, ids: &[u32], skip_special_tokens: bool) -> Result<String> {
        self.inner
            .decode(ids, skip_special_tokens)
            .map_err(|e| ModelError::Tokenizer { path: self.path.clone(), message: e.to_string() })
    }

    pub fn token_to_id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    /// Vocabulary size including added tokens (transformers' `len(tokenizer)`).
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn eos_token_id(&self) -> Option<u32> {
        self.special.eos_token.as_deref().and_then(|t| self.token_to_id(t))
    }

    pub fn pad_token_id(&self) -> Option<u32> {
        self.special.pad_token.as_deref().and_then(|t| self.token_to_id(t))
    }
}
