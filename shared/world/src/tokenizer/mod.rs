//! A byte-level BPE tokenizer trained on the world's language (Qwen2's normaliser, pre-tokeniser and
//! decoder), with the ChatML and image special tokens, saved as a folder that criticloop's `model` crate
//! and transformers load; and repeat rows drawn from its vocabulary ([`repeat_rows`]).

mod build;
mod corpus;
mod repeat;
mod save;
mod template;

pub use build::{PRETOKENIZE_REGEX, SPECIAL_TOKENS, TokenizerSettings, build_tokenizer};
pub use corpus::world_corpus;
pub use repeat::{RepeatRow, repeat_rows};
pub use save::{load_tokenizer, save_tokenizer, tokenizer_config};
pub use template::CHAT_TEMPLATE;
