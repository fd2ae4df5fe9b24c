//! The DPO trainer of the tch backend: fetches the base checkpoint, tokenises the round's pairs with its
//! chat template, trains with `train::DpoTrainer` (the round's beta, learning rate, epochs and seed; the
//! backend's recipe for the rest), and publishes the result in the Hugging Face layout as a `sha256:`
//! directory artifact, with the metrics TRL logs and the pairs it skipped.

use std::path::{Path, PathBuf};
use std::time::Instant;

use backend::{BackendError, TchConfig, TrainRequest, TrainedCheckpoint, Trainer};
use model::{ChatTemplate, Dtype, LoadOptions, ModelError, Qwen2Config, TextTokenizer, parse_device};
use serde_json::{Map, Value, json};
use train::{DpoConfig, DpoTrainer, PairMetrics, Schedule, StepMetrics, TrainError};

use crate::checkpoints::Checkpoints;
use crate::run_dir::RunDir;

pub struct TchTrainer {
    config: TchConfig,
    load: LoadOptions,
    schedule: Schedule,
    checkpoints: Checkpoints,
    runs: PathBuf,
}

impl TchTrainer {
    /// Checks the configuration (each error names its `CRITICLOOP_BACKEND__*` key) and the device.
    pub fn new(config: &TchConfig, checkpoints: Checkpoints) -> Result<Self, String> {
        let load = load_options(config)?;
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
        let trainer = Self { config: config.clone(), load, schedule, checkpoints, runs: config.work_dir.join("runs") };
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
            ..DpoConfig::default()
        }
    }

    fn run(&self, request: &TrainRequest, out: &Path) -> Result<Value, BackendError> {
        let started = Instant::now();
        let base = self.checkpoints.resolve(&request.base_uri)?;
        let context = |what: &str| format!("base checkpoint `{}`: {what}", request.base_uri);
        let model_config = Qwen2Config::from_file(&base.join("config.json"))
            .map_err(|e| model_error(&context("reading config.json"), e))?;
        let tokenizer =
            TextTokenizer::from_dir(&base).map_err(|e| model_error(&context("loading the tokenizer"), e))?;
        let chat_template = match ChatTemplate::from_dir(&base) {
            Ok(t) => Some(t),
            Err(ModelError::NoChatTemplate { .. }) => None,
            Err(e) => return Err(model_error(&context("loading the chat template"), e)),
        };
        let context_len = usize::try_from(model_config.max_position_embeddings).unwrap_or(usize::MAX);
        let max_length = self.config.max_length.min(context_len);
        let set = crate::pairs::tokenize(&request.pairs, &tokenizer, chat_template.as_ref(), max_length);
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
        let mut trainer = {
            let _span = tracing::info_span!("dpo.load", base = %base.display()).entered();
            DpoTrainer::new(&base, set.pairs, cfg.clone(), &self.load).map_err(|e| train_error("loading", e))?
        };
        let total = trainer.total_steps();
        let mut steps: Vec<StepMetrics> = Vec::new();
        {
            let _span = tracing::info_span!("dpo.train", pairs = trained_pairs, steps = total).entered();
            trainer
                .train(None, |m| {
                    tracing::info!(
                        step = m.step,
                        total,
                        loss = m.pairs.loss,
                        margin = m.pairs.rewards_margins,
                        accuracy = m.pairs.rewards_accuracies,
                        seconds = m.seconds,
                        "dpo step"
                    );
                    steps.push(m.clone());
                })
                .map_err(|e| train_error("training", e))?;
        }
        {
            let _span = tracing::info_span!("dpo.save", out = %out.display()).entered();
            trainer.save_model(out).map_err(|e| train_error("saving", e))?;
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
        let out = RunDir::create(&self.runs)?;
        let metrics = self.run(request, out.path())?;
        let uri = self.checkpoints.publish(out.path())?;
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

fn train_error(what: &str, e: TrainError) -> BackendError {
    match e {
        TrainError::Model(m) => model_error(&format!("DPO {what}"), m),
        e @ (TrainError::Config { .. } | TrainError::NoPairs { .. }) => {
            BackendError::Permanent(format!("DPO {what}: {e}"))
        }
        other => BackendError::Transient(format!("DPO {what}: {other}")),
    }
}
