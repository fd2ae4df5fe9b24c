//! The DPO trainer of the tch backend: fetches the base checkpoint, tokenises the round's pairs with its
//! chat template, trains with `train::DpoTrainer` (the round's beta, learning rate, epochs and seed; the
//! backend's recipe for the rest), and publishes the result in the Hugging Face layout as a `sha256:`
//! directory artifact, with the metrics TRL logs and the pairs it skipped.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use backend::{BackendError, TchConfig, TrainRequest, TrainedCheckpoint, Trainer};
use model::{Dtype, LoadOptions, ModelError, parse_device};
use serde_json::{Map, Value, json};
use train::{CheckpointText, DpoConfig, PairMetrics, Schedule, TrainError};

use crate::checkpoints::Checkpoints;
use crate::images::Images;
use crate::resume::{History, run_key, save, start_or_resume};
use crate::run_dir::RunDir;

pub struct TchTrainer {
    config: TchConfig,
    /// float32 weights: `CRITICLOOP_BACKEND__DTYPE=bf16` trains float32 masters in mixed precision.
    load: LoadOptions,
    bf16: bool,
    schedule: Schedule,
    checkpoints: Checkpoints,
    images: Images,
    runs: PathBuf,
}

impl TchTrainer {
    /// Checks the configuration (each error names its `CRITICLOOP_BACKEND__*` key) and the device.
    pub fn new(config: &TchConfig, checkpoints: Checkpoints, images: Images) -> Result<Self, String> {
        let load = load_options(config)?;
        // Adam's updates are far below a bfloat16 weight's resolution: training keeps float32 weights and
        // runs the matrix products in bfloat16 (transformers' `bf16=True`). Float16 would need loss scaling;
        // every tch service builds a trainer, so f16 (fine for generation and judging) trains in float32.
        let bf16 = match load.dtype {
            Dtype::F32 => false,
            Dtype::BF16 => true,
            Dtype::F16 => {
                tracing::warn!(
                    "CRITICLOOP_BACKEND__DTYPE=f16: DPO trains in float32 (float16 training would need loss \
                     scaling); bf16 trains in mixed precision"
                );
                false
            }
        };
        let load = LoadOptions { dtype: Dtype::F32, ..load };
        let schedule = match config.lr_scheduler.as_str() {
            "linear" => Schedule::Linear,
            "cosine" => Schedule::Cosine,
            "constant" => Schedule::Constant,
            other => {
                return Err(format!(
                    "CRITICLOOP_BACKEND__LR_SCHEDULER: unknown schedule `{other}` (linear, cosine, constant)"
                ));
            }
        };
        let runs = config.work_dir.join("runs");
        crate::resume::remove_stale(&runs, crate::resume::STALE_AFTER);
        let trainer = Self { config: config.clone(), load, bf16, schedule, checkpoints, images, runs };
        // The round supplies beta, learning rate and epochs; check the rest with placeholders for those.
        let probe = TrainRequest {
            base_uri: String::new(),
            pairs: Vec::new(),
            beta: 0.1,
            learning_rate: 0.0,
            epochs: 1,
            seed: 0,
        };
        trainer.dpo_config(&probe, trainer.config.max_length).validate().map_err(|e| match e {
            TrainError::Config { option, message } => {
                format!("CRITICLOOP_BACKEND__{}: {message}", backend_key(option).to_ascii_uppercase())
            }
            other => other.to_string(),
        })?;
        Ok(trainer)
    }

    fn dpo_config(&self, request: &TrainRequest, max_length: usize) -> DpoConfig {
        let c = &self.config;
        DpoConfig {
            beta: request.beta,
            learning_rate: request.learning_rate,
            num_train_epochs: u64::from(request.epochs),
            seed: request.seed,
            per_device_train_batch_size: c.batch_size,
            gradient_accumulation_steps: c.gradient_accumulation_steps,
            lr_scheduler_type: self.schedule,
            warmup_ratio: c.warmup_ratio,
            weight_decay: c.weight_decay,
            max_grad_norm: (c.max_grad_norm > 0.0).then_some(c.max_grad_norm),
            max_length,
            shared_prompt: c.shared_prompt,
            bf16: self.bf16,
            ..DpoConfig::default()
        }
    }

    /// Trains in the run folder `run`; the trained model is left in `run/model`.
    fn run(&self, request: &TrainRequest, run: &Path) -> Result<Value, BackendError> {
        let started = Instant::now();
        let base = self.checkpoints.resolve(&request.base_uri)?;
        let context = |what: &str| format!("base checkpoint `{}`: {what}", request.base_uri);
        let text = CheckpointText::from_dir(&base).map_err(|e| train_error(&context("reading"), e))?;
        let max_length = self.config.max_length.min(text.context);
        // a store that does not answer fails the task (it is retried), not the pairs
        let unavailable: Mutex<Option<BackendError>> = Mutex::new(None);
        let load_image = |reference: &str| {
            self.images.bytes(reference).map_err(|e| match e {
                BackendError::Permanent(m) => m,
                transient @ BackendError::Transient(_) => {
                    let message = transient.to_string();
                    unavailable.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert(transient);
                    message
                }
            })
        };
        let set = crate::pairs::tokenize(&request.pairs, &text, max_length, &load_image);
        drop(text);
        if let Some(e) = unavailable.into_inner().unwrap_or_else(PoisonError::into_inner) {
            return Err(e);
        }
        let bad: Vec<Value> = set.bad.iter().map(|b| json!({"id": b.id, "reason": b.reason.to_string()})).collect();
        for b in &set.bad {
            tracing::warn!(pair = %b.id, reason = %b.reason, "pair skipped");
        }
        if set.pairs.is_empty() {
            let reasons: Vec<String> = set.bad.iter().map(|b| format!("`{}`: {}", b.id, b.reason)).collect();
            return Err(BackendError::Permanent(if reasons.is_empty() {
                "the round has no pairs to train on".to_string()
            } else {
                format!("none of the round's {} pairs can be trained on: {}", reasons.len(), reasons.join("; "))
            }));
        }
        let trained_pairs = set.pairs.len();
        let cfg = self.dpo_config(request, max_length);
        let checkpoints = run.join("checkpoints");
        let history = History::new(run);
        let (mut trainer, resumed_from) = {
            let _span = tracing::info_span!("dpo.load", base = %base.display()).entered();
            start_or_resume(&base, &checkpoints, set.pairs, cfg.clone(), &self.load)
                .map_err(|e| train_error("loading", e))?
        };
        let mut steps = history.until(resumed_from);
        history.reset(&steps).map_err(|e| transient_io("writing the step history", e))?;
        let total = trainer.total_steps();
        {
            let _span = tracing::info_span!("dpo.train", pairs = trained_pairs, steps = total, resumed_from).entered();
            while !trainer.is_done() {
                let m = trainer.step().map_err(|e| train_error("training", e))?;
                tracing::info!(
                    step = m.step,
                    total,
                    loss = m.pairs.loss,
                    margin = m.pairs.rewards_margins,
                    accuracy = m.pairs.rewards_accuracies,
                    seconds = m.seconds,
                    "dpo step"
                );
                history.append(&m).map_err(|e| transient_io("writing the step history", e))?;
                let save_steps = self.config.save_steps;
                if save_steps > 0 && m.step.is_multiple_of(save_steps) && !trainer.is_done() {
                    let _span = tracing::info_span!("dpo.checkpoint", step = m.step).entered();
                    save(&trainer, &checkpoints).map_err(|e| train_error("checkpointing", e))?;
                }
                steps.push(m);
            }
        }
        let out = run.join("model");
        let _ = std::fs::remove_dir_all(&out);
        {
            let _span = tracing::info_span!("dpo.save", out = %out.display()).entered();
            trainer.save_model(&out).map_err(|e| train_error("saving", e))?;
        }
        drop(trainer);
        let last = steps.last().map(|s| s.pairs).unwrap_or_default();
        let mut metrics = trl_metrics(&last);
        let train_loss = steps.iter().map(|s| s.pairs.loss).sum::<f64>() / steps.len().max(1) as f64;
        let history: Vec<Value> = steps
            .iter()
            .map(|s| {
                let mut m = trl_metrics(&s.pairs);
                m.insert("step".into(), json!(s.step));
                m.insert("epoch".into(), json!(s.epoch));
                m.insert("learning_rate".into(), json!(s.learning_rate));
                m.insert("grad_norm".into(), json!(s.grad_norm));
                m.insert("tokens".into(), json!(s.tokens));
                m.insert("seconds".into(), json!(s.seconds));
                Value::Object(m)
            })
            .collect();
        metrics.extend([
            ("backend".to_string(), json!("tch")),
            ("train_loss".to_string(), json!(train_loss)),
            ("steps".to_string(), json!(steps.len())),
            ("resumed_from_step".to_string(), json!(resumed_from)),
            ("pairs".to_string(), json!(trained_pairs)),
            ("bad_pairs".to_string(), Value::Array(bad)),
            ("history".to_string(), Value::Array(history)),
            ("seconds".to_string(), json!(started.elapsed().as_secs_f64())),
            (
                "config".to_string(),
                json!({
                    "beta": cfg.beta,
                    "learning_rate": cfg.learning_rate,
                    "num_train_epochs": cfg.num_train_epochs,
                    "seed": cfg.seed,
                    "per_device_train_batch_size": cfg.per_device_train_batch_size,
                    "gradient_accumulation_steps": cfg.gradient_accumulation_steps,
                    "lr_scheduler_type": self.config.lr_scheduler,
                    "warmup_ratio": cfg.warmup_ratio,
                    "weight_decay": cfg.weight_decay,
                    "max_grad_norm": cfg.max_grad_norm,
                    "max_length": cfg.max_length,
                    "shared_prompt": cfg.shared_prompt,
                    "dtype": self.load.dtype.hf_name(),
                    "bf16": cfg.bf16,
                    "device": format!("{:?}", self.load.device),
                }),
            ),
        ]);
        Ok(Value::Object(metrics))
    }
}

impl Trainer for TchTrainer {
    fn train(&self, request: &TrainRequest) -> Result<TrainedCheckpoint, BackendError> {
        let span = tracing::info_span!("tch.train", base = %request.base_uri, pairs = request.pairs.len());
        let _entered = span.enter();
        let mut run = RunDir::resumable(&self.runs, &run_key(request, &self.config))?;
        let metrics = match self.run(request, run.path()) {
            Ok(metrics) => metrics,
            Err(e @ BackendError::Transient(_)) => {
                run.keep(); // the next attempt resumes from its checkpoint
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let uri = match self.checkpoints.publish(&run.path().join("model")) {
            Ok(uri) => uri,
            Err(e @ BackendError::Transient(_)) => {
                run.keep();
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        tracing::info!(%uri, "trained checkpoint published");
        Ok(TrainedCheckpoint { uri, metrics })
    }
}

/// The metrics TRL's `DPOTrainer` logs, under TRL's names.
pub fn trl_metrics(m: &PairMetrics) -> Map<String, Value> {
    [
        ("loss", m.loss),
        ("rewards/chosen", m.rewards_chosen),
        ("rewards/rejected", m.rewards_rejected),
        ("rewards/margins", m.rewards_margins),
        ("rewards/accuracies", m.rewards_accuracies),
        ("logps/chosen", m.logps_chosen),
        ("logps/rejected", m.logps_rejected),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), json!(v)))
    .collect()
}

pub(crate) fn load_options(config: &TchConfig) -> Result<LoadOptions, String> {
    let dtype = config.dtype.parse::<Dtype>().map_err(|e| format!("CRITICLOOP_BACKEND__DTYPE: {e}"))?;
    let device = parse_device(&config.device).map_err(|e| format!("CRITICLOOP_BACKEND__DEVICE: {e}"))?;
    Ok(LoadOptions { dtype, device })
}

/// The backend key of a DPO option (they are named alike except these).
fn backend_key(option: &str) -> &str {
    match option {
        "per_device_train_batch_size" => "batch_size",
        "lr_scheduler_type" => "lr_scheduler",
        other => other,
    }
}

/// A bad checkpoint stays bad; a failed read may not.
pub(crate) fn model_error(what: &str, e: ModelError) -> BackendError {
    match e {
        ModelError::Io { .. } | ModelError::Torch(_) => BackendError::Transient(format!("{what}: {e}")),
        other => BackendError::Permanent(format!("{what}: {other}")),
    }
}

fn transient_io(what: &str, e: std::io::Error) -> BackendError {
    BackendError::Transient(format!("{what}: {e}"))
}

fn train_error(what: &str, e: TrainError) -> BackendError {
    match e {
        TrainError::Model(m) => model_error(&format!("DPO {what}"), m),
        e @ (TrainError::Config { .. } | TrainError::NoPairs { .. }) => {
            BackendError::Permanent(format!("DPO {what}: {e}"))
        }
        other => BackendError::Transient(format!("DPO {what}: {other}")),
    }
}
