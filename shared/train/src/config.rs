//! Training options. Names and defaults follow TRL's `DPOConfig` / transformers' `TrainingArguments`
//! (trl 1.16, transformers 5.24) unless said otherwise, so a TRL recipe carries over key for key.

use serde::{Deserialize, Serialize};

use crate::error::{Result, config_err};

/// The preference loss (TRL's `loss_type`), or supervised fine-tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum LossType {
    /// `-log σ(β Δ)`; with label smoothing ε the conservative form of the DPO paper (cDPO):
    /// `-(1-ε) log σ(β Δ) - ε log σ(-β Δ)` (TRL 1.x no longer smooths `sigmoid`; this is the recipe's form).
    #[default]
    Sigmoid,
    /// `relu(1 - β Δ)` (SLiC).
    Hinge,
    /// `(Δ/len - 1/(2β))²` with each side's log-ratio divided by its completion length, as TRL does.
    Ipo,
    /// Robust DPO, TRL's `robust`: `(-(1-ε) log σ(β Δ) + ε log σ(-β Δ)) / (1 - 2ε)`.
    Robust,
    /// Supervised fine-tuning, TRL's `SFTTrainer` on prompt-completion data: the cross-entropy of the
    /// chosen completion (the rejected one is ignored and no reference model is loaded), summed over the
    /// completion tokens of an optimizer step's micro-batches and divided by their number.
    Sft,
}

/// Learning-rate schedule (transformers' `lr_scheduler_type`), after a linear warm-up from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    #[default]
    Linear,
    Cosine,
    Constant,
}

/// Everything that decides the numbers of a run. Serialised into each checkpoint: a resume must use the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpoConfig {
    pub beta: f64,
    pub loss_type: LossType,
    /// ε of `sigmoid` (cDPO) and `robust`; in [0, 0.5).
    pub label_smoothing: f64,
    /// γ of the SFT term `γ · NLL(chosen)`: the mean negative log-likelihood of the chosen tokens of a
    /// micro-batch (TRL: `loss_type=[.., "sft"]`, `loss_weights=[1, γ]`). 0 disables it.
    pub sft_weight: f64,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub adam_beta1: f64,
    pub adam_beta2: f64,
    pub adam_epsilon: f64,
    pub lr_scheduler_type: Schedule,
    /// Share of the optimizer steps spent warming up, rounded up (transformers' `warmup_steps < 1`).
    pub warmup_ratio: f64,
    /// Warm-up steps; when > 0 it wins over `warmup_ratio`.
    pub warmup_steps: u64,
    pub per_device_train_batch_size: usize,
    pub gradient_accumulation_steps: usize,
    /// Clip the global gradient 2-norm to this value; `None` disables clipping (transformers: 1.0).
    pub max_grad_norm: Option<f64>,
    pub num_train_epochs: u64,
    /// When set, the run stops after this many optimizer steps, cycling through epochs as needed.
    pub max_steps: Option<u64>,
    /// Seed of the data order.
    pub seed: u64,
    /// Shuffle the pairs each epoch (seeded); `false` keeps file order.
    pub shuffle: bool,
    /// Longest `prompt + response` in tokens; longer pairs are reported, not truncated.
    pub max_length: usize,
    /// Compute every reference log-prob once before training (and free the reference model) instead of
    /// alongside each step.
    pub precompute_ref_log_probs: bool,
    /// Pack each pair as one row, `prompt + chosen + rejected`, so the prompt is computed once (criticloop's
    /// option; TRL runs prompt+chosen and prompt+rejected as two rows). Same loss, rounded differently.
    pub shared_prompt: bool,
    /// Weight-name prefixes to train (transformers names, e.g. `model.layers.23.`, `lm_head`); empty: all.
    pub trainable: Vec<String>,
    /// Write a resumable checkpoint every this many optimizer steps; 0: never.
    pub save_steps: u64,
    /// Mixed precision (transformers' `bf16`): the matrix products of the policy and the reference run in
    /// bfloat16, as under `torch.autocast(dtype=torch.bfloat16)`, while the weights, the optimizer state,
    /// the norms, the log-softmax and the loss stay in float32.
    pub bf16: bool,
}

impl Default for DpoConfig {
    fn default() -> Self {
        DpoConfig {
            beta: 0.1,
            loss_type: LossType::Sigmoid,
            label_smoothing: 0.0,
            sft_weight: 0.0,
            learning_rate: 1e-6,
            weight_decay: 0.0,
            adam_beta1: 0.9,
            adam_beta2: 0.999,
            adam_epsilon: 1e-8,
            lr_scheduler_type: Schedule::Linear,
            warmup_ratio: 0.0,
            warmup_steps: 0,
            per_device_train_batch_size: 8,
            gradient_accumulation_steps: 1,
            max_grad_norm: Some(1.0),
            num_train_epochs: 3,
            max_steps: None,
            seed: 42,
            shuffle: true,
            max_length: 1024,
            precompute_ref_log_probs: false,
            shared_prompt: false,
            trainable: Vec::new(),
            save_steps: 0,
            bf16: false,
        }
    }
}

impl DpoConfig {
    /// The precision of the matrix products.
    pub fn autocast(&self) -> model::Autocast {
        if self.bf16 { model::Autocast::new(model::Dtype::BF16) } else { model::Autocast::OFF }
    }

    pub fn validate(&self) -> Result<()> {
        if !(self.beta > 0.0 && self.beta.is_finite()) {
            return Err(config_err("beta", format!("must be > 0, got {}", self.beta)));
        }
        if !(0.0..0.5).contains(&self.label_smoothing) {
            return Err(config_err("label_smoothing", format!("must be in [0, 0.5), got {}", self.label_smoothing)));
        }
        if self.label_smoothing > 0.0 && matches!(self.loss_type, LossType::Hinge | LossType::Ipo | LossType::Sft) {
            return Err(config_err("label_smoothing", "only the sigmoid and robust losses use it"));
        }
        if !(self.learning_rate >= 0.0 && self.learning_rate.is_finite()) {
            return Err(config_err("learning_rate", format!("must be >= 0, got {}", self.learning_rate)));
        }
        if !(0.0..1.0).contains(&self.warmup_ratio) {
            return Err(config_err("warmup_ratio", format!("must be in [0, 1), got {}", self.warmup_ratio)));
        }
        if self.per_device_train_batch_size == 0 {
            return Err(config_err("per_device_train_batch_size", "must be at least 1"));
        }
        if self.gradient_accumulation_steps == 0 {
            return Err(config_err("gradient_accumulation_steps", "must be at least 1"));
        }
        if let Some(m) = self.max_grad_norm
            && (m.is_nan() || m <= 0.0)
        {
            return Err(config_err("max_grad_norm", format!("must be > 0, got {m}")));
        }
        if self.max_steps.is_none() && self.num_train_epochs == 0 {
            return Err(config_err("num_train_epochs", "must be at least 1 without max_steps"));
        }
        if self.max_length < 2 {
            return Err(config_err("max_length", "must be at least 2"));
        }
        Ok(())
    }
}
