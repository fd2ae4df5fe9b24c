//! Configuration of the `tch` backend (built by `shared/backend-tch`). Pure data, so every worker can
//! read and validate its settings whether or not it links libtorch.

use serde::Deserialize;
use std::path::PathBuf;

/// `CRITICLOOP_BACKEND__KIND=tch`: models in-process on libtorch. Each key is `CRITICLOOP_BACKEND__<KEY>`.
/// The DPO options not set per campaign (beta, learning rate, epochs and seed are) follow LLaVA-NeXT's
/// recipe (METHOD.md section 3) except the precision, float32 unless `dtype` says otherwise.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TchConfig {
    /// `cpu`, `cuda`, `cuda:N` or `auto` (CUDA when available, else CPU).
    pub device: String,
    /// `f32`, `bf16` or `f16`: the precision of weights and activations.
    pub dtype: String,
    /// Checkpoints fetched from the artifact store and freshly trained ones are kept here, by digest
    /// (`checkpoints/<hex>`), and training runs write their output under `runs/`.
    pub work_dir: PathBuf,
    /// Pairs per micro-batch (TRL's `per_device_train_batch_size`).
    pub batch_size: usize,
    /// Micro-batches per optimizer step.
    pub gradient_accumulation_steps: usize,
    /// Longest `prompt + response` in tokens (capped by the checkpoint's context); longer pairs are
    /// reported and skipped.
    pub max_length: usize,
    /// `linear`, `cosine` or `constant`, after a linear warm-up.
    pub lr_scheduler: String,
    /// Share of the optimizer steps spent warming up.
    pub warmup_ratio: f64,
    pub weight_decay: f64,
    /// Gradient clipping norm; 0 disables clipping.
    pub max_grad_norm: f64,
    /// Compute each pair's prompt once (one packed row per pair): same loss, less compute.
    pub shared_prompt: bool,
    /// Optimizer steps between the mid-run checkpoints (weights, optimizer state, step) that a killed
    /// training service resumes from, so a crash costs at most this many steps; 0 turns them off. Only the
    /// latest is kept, under `work_dir/runs/`.
    pub save_steps: u64,
    /// Policy and critic checkpoints kept loaded (least recently used evicted first); a checkpoint is
    /// loaded once however it is named (`sha256:` or its folder).
    pub cached_models: usize,
    /// Prompts per forward pass of the policy (each with its K samples).
    pub generate_batch_size: usize,
    /// Judge requests per forward pass of the critic.
    pub judge_batch_size: usize,
    /// Longest critic output in tokens (the critic decodes greedily).
    pub critic_max_new_tokens: usize,
}

impl Default for TchConfig {
    fn default() -> Self {
        Self {
            device: "auto".into(),
            dtype: "f32".into(),
            work_dir: PathBuf::from(".criticloop/tch"),
            batch_size: 1,
            gradient_accumulation_steps: 8,
            max_length: 2048,
            lr_scheduler: "cosine".into(),
            warmup_ratio: 0.1,
            weight_decay: 0.0,
            max_grad_norm: 1.0,
            shared_prompt: false,
            save_steps: 50,
            cached_models: 2,
            generate_batch_size: 8,
            judge_batch_size: 8,
            critic_max_new_tokens: 512,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::BackendConfig;

    #[test]
    fn tch_config_reads_its_keys_and_names_an_unknown_one() {
        let cfg: BackendConfig =
            serde_json::from_value(serde_json::json!({"kind": "tch", "device": "cpu", "batch_size": 2}))
                .expect("valid tch section");
        let BackendConfig::Tch(c) = cfg else { panic!("not tch: {cfg:?}") };
        assert_eq!((c.device.as_str(), c.batch_size, c.gradient_accumulation_steps), ("cpu", 2, 8));
        let err = serde_json::from_value::<BackendConfig>(serde_json::json!({"kind": "tch", "batch": 2}))
            .expect_err("unknown key");
        assert!(err.to_string().contains("batch"), "{err}");
        let err = crate::build(&BackendConfig::Tch(super::TchConfig::default())).err().expect("not built here");
        assert!(err.contains("backend_tch::build"), "{err}");
    }
}
