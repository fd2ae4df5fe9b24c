//! Training the tokenizer: the pipeline `Qwen2Tokenizer` rebuilds on reload (NFC, Qwen2's split regex,
//! byte-level bytes-to-chars without a prefix space, byte-level decoder) around a BPE model trained here.

use tokenizers::decoders::byte_level::ByteLevel;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::normalizers::unicode::NFC;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split, SplitPattern};
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

use crate::error::{Result, WorldError};

/// transformers' `PRETOKENIZE_REGEX` for Qwen2 (`models/qwen2/tokenization_qwen2.py`).
pub const PRETOKENIZE_REGEX: &str =
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The special tokens, with ids 0..5 in this order: end of text (padding), the ChatML turn markers, and
/// the image and video placeholders LLaVA expands.
pub const SPECIAL_TOKENS: [&str; 5] = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<image>", "<video>"];

/// What the trained tokenizer looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizerSettings {
    /// Target vocabulary size, special tokens and the 256 byte symbols included (fewer when the corpus
    /// has too few distinct pairs to merge).
    pub vocab_size: usize,
    /// `model_max_length` written to `tokenizer_config.json`.
    pub model_max_length: usize,
}

impl Default for TokenizerSettings {
    fn default() -> Self {
        TokenizerSettings { vocab_size: 512, model_max_length: 32768 }
    }
}

fn err(e: impl std::fmt::Display) -> WorldError {
    WorldError::Tokenizer(e.to_string())
}

/// A byte-level BPE tokenizer trained on `corpus`. Every string encodes (all 256 bytes are in the
/// vocabulary) and decodes back to its NFC form; each special token is one id.
pub fn build_tokenizer<S: AsRef<str> + Sync>(corpus: &[S], settings: &TokenizerSettings) -> Result<Tokenizer> {
    let specials: Vec<AddedToken> = SPECIAL_TOKENS.iter().map(|t| AddedToken::from(*t, true)).collect();
    let mut tokenizer = Tokenizer::new(BPE::default());
    let split = Split::new(SplitPattern::Regex(PRETOKENIZE_REGEX.into()), SplitDelimiterBehavior::Isolated, false)
        .map_err(err)?;
    tokenizer
        .with_normalizer(Some(NFC))
        .with_pre_tokenizer(Some(Sequence::new(vec![split.into(), ByteLevel::new(false, true, false).into()])))
        .with_decoder(Some(ByteLevel::default()));
    let mut trainer: TrainerWrapper = BpeTrainerBuilder::new()
        .vocab_size(settings.vocab_size)
        .min_frequency(0)
        .show_progress(false)
        .special_tokens(specials)
        .initial_alphabet(ByteLevel::alphabet().into_iter().collect())
        .build()
        .into();
    tokenizer.train(&mut trainer, corpus.iter().map(|s| s.as_ref().to_string())).map_err(err)?;
    Ok(tokenizer)
}
