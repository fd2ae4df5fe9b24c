//! DPO training (and, with `loss_type: sft`, supervised fine-tuning at parity with TRL's `SFTTrainer`) of
//! Qwen2 and LLaVA-OneVision policies on the in-process runtime of the `model` crate, at parity with
//! TRL's `DPOTrainer` (trl 1.16, transformers 5.24): same tokenisation of `{prompt, chosen, rejected}` pairs,
//! same per-sequence log-prob sums, losses and logged metrics, AdamW with transformers' weight-decay groups,
//! its schedules, gradient accumulation and clipping. Parity is pinned by the `dpo_parity_*` tests, which run
//! TRL on a tiny random checkpoint in the same process tree.
//!
//! Contracts:
//! - malformed pairs never stop a run: [`pairs::PairTokenizer`] reports each with its id and reason, and the
//!   rest train;
//! - a run killed at any point resumes from its last complete checkpoint ([`checkpoint::latest`],
//!   [`DpoTrainer::resume`]) and ends with the weights an uninterrupted run ends with;
//! - the reference model is a frozen copy of the starting checkpoint, run alongside each micro-batch, or
//!   replaced by log-probs computed once before training (`precompute_ref_log_probs`).
//!
//! Like `model`, this crate knows nothing of tokio, sqlx or lapin; one thread owns a trainer.

pub mod checkpoint;
pub mod checkpoint_text;
pub mod config;
pub mod error;
pub mod logps;
pub mod loss;
pub mod optim;
pub mod order;
pub mod pairs;
pub mod policy;
pub mod schedule;
pub mod trainer;
pub mod vision_pairs;

pub use checkpoint_text::CheckpointText;
pub use config::{DpoConfig, LossType, Schedule};
pub use error::{Result, TrainError};
pub use loss::PairMetrics;
pub use pairs::{BadPair, BadPairReason, PairSet, PairTokenizer, TokenizedPair};
pub use policy::PolicyModel;
pub use trainer::{DpoTrainer, Reference, StepMetrics};
pub use vision_pairs::{ImageLoader, PairImage, VisionPairs};
