//! A byte-level BPE tokenizer trained on the world's language (Qwen2's normaliser, pre-tokeniser and
//! decoder), with the ChatML and image special tokens, saved as a folder that criticloop's `model` crate
//! and transformers load.

mod build;
mod corpus;
mod save;
mod template;

pub use build::{PRETOKENIZE_REGEX, SPECIAL_TOKENS, TokenizerSettings, build_tokenizer};
pub use corpus::world_corpus;
pub use save::{save_tokenizer, tokenizer_config};
pub use template::CHAT_TEMPLATE;
