//! criticloop's in-process model runtime on libtorch (`tch`): Hugging Face Qwen2 and LLaVA-OneVision
//! checkpoints (`TextModel`, `VisionModel`: images preprocessed and their `<image>` tokens expanded as
//! transformers' processor does) loaded
//! strictly from safetensors, batched forward and response log-probabilities, KV-cache generation (greedy
//! and seeded sampling, K samples sharing one prefill), tokenizer and chat template as transformers applies
//! them, and saving back in the Hugging Face layout. Parity with transformers is pinned by the tests in
//! `tests/`, which build tiny random checkpoints with `fixtures/qwen2_fixture.py`.
//!
//! This crate knows nothing of tokio, sqlx or lapin; `tch::Tensor` is `Send` but not `Sync`, so one
//! thread owns a model and async callers talk to it over a channel.

pub mod autocast;
pub mod batch;
pub mod cache;
pub mod chat;
pub mod config;
pub mod error;
pub mod fixtures;
pub mod generate;
pub mod llava;
pub mod logprobs;
pub mod options;
pub mod qwen2;
pub mod sampling;
pub mod save;
pub mod text_model;
pub mod tokenizer;
pub mod vision_model;
pub mod weights;

pub use autocast::Autocast;
pub use batch::{PaddedBatch, PaddingSide};
pub use cache::KvCache;
pub use chat::{ChatOptions, ChatTemplate, Message};
pub use config::Qwen2Config;
pub use error::{ModelError, Result};
pub use generate::{Completion, FinishReason, GenerateConfig, generate, generate_with};
pub use llava::{ImageInput, LlavaOnevision, LlavaOnevisionConfig};
pub use logprobs::{ResponseLogprobs, ScoreRequest, response_logprobs};
/// Template values (messages, tools) that keep their key order; see `ChatOptions::tools`.
pub use minijinja::Value as TemplateValue;
pub use options::{Dtype, LoadOptions, parse_device};
pub use qwen2::{Qwen2ForCausalLM, StepInput, positions_from_mask};
pub use sampling::{Sampler, Sampling};
pub use save::{save_llava_pretrained, save_pretrained};
pub use text_model::TextModel;
pub use tokenizer::{SpecialTokens, TextTokenizer};
pub use vision_model::{EncodedPrompt, VisionModel, VisionPrompt};

/// Re-exported so callers can build `tch` tensors and devices without depending on `tch` themselves.
pub use tch;
