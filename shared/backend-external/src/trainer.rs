//! The external trainer: one run folder per round (`work_dir/runs/<id>`: `pairs.jsonl`, `images/`,
//! `output/`), the base checkpoint resolved as the tch backend does (a `sha256:` directory artifact cached
//! under `work_dir/checkpoints`, or a local folder), the command run, its output checked and stored as a
//! `sha256:` directory artifact.
//!
//! Failures, and whether another attempt may help:
//! - the command cannot start: missing program or not executable is permanent (fix the configuration);
//!   other start failures (out of processes) are transient;
//! - it runs past `timeout_secs`: permanent (another attempt would run as long);
//! - it is killed by a signal (the OOM killer, a preempted node): transient;
//! - it exits with one of `transient_exit_codes` (default 75, `EX_TEMPFAIL`): transient;
//! - any other non-zero exit: permanent, since a training script that fails on the same pairs and
//!   checkpoint fails again; the round fails with the last stderr lines in its reason;
//! - exit 0 without a loadable checkpoint in `{output}`: permanent;
//! - artifact store failures: as in the tch backend (missing or corrupt is permanent, I/O transient).

use std::path::{Path, PathBuf};
use std::time::Duration;

use backend::{BackendError, ExternalConfig, TrainRequest, TrainedCheckpoint, Trainer};
use backend_tch::{Checkpoints, RunDir};
use serde_json::{Value, json};

use crate::orphans::Registry;
use crate::output;
use crate::pairs::PairWriter;
use crate::process::{self, Finished};
use crate::template::{Template, Values};

pub struct ExternalTrainer {
    config: ExternalConfig,
    template: Template,
    checkpoints: Checkpoints,
    pairs: PairWriter,
    runs: PathBuf,
    registry: Registry,
}

impl ExternalTrainer {
    /// Checks the command template (errors name `CRITICLOOP_BACKEND__COMMAND`).
    pub fn new(config: &ExternalConfig, checkpoints: Checkpoints, pairs: PairWriter) -> Result<Self, String> {
        let template = Template::parse(&config.command, config.shell)?;
        let runs = config.work_dir.join("runs");
        let registry = Registry::new(&runs);
        let stopped = registry.stop_orphans();
        if !stopped.is_empty() {
            tracing::warn!(?stopped, "stopped training commands left running by a worker that died");
        }
        Ok(Self { config: config.clone(), template, checkpoints, pairs, runs, registry })
    }

    fn run(&self, request: &TrainRequest, run: &Path) -> Result<TrainedCheckpoint, BackendError> {
        if request.pairs.is_empty() {
            return Err(BackendError::Permanent("the round has no pairs to train on".into()));
        }
        let base = self.checkpoints.resolve(&request.base_uri)?;
        let base = std::path::absolute(&base).unwrap_or(base);
        let (pairs, images, out) = (run.join("pairs.jsonl"), run.join("images"), run.join("output"));
        let images_sent = self.pairs.write(&request.pairs, &pairs, &images)?;
        std::fs::create_dir_all(&out)
            .map_err(|e| BackendError::Transient(format!("creating the output folder {}: {e}", out.display())))?;
        let values = Values {
            pairs: &pairs,
            base: &base,
            output: &out,
            work: run,
            beta: request.beta,
            learning_rate: request.learning_rate,
            epochs: request.epochs,
            seed: request.seed,
        };
        let argv = self.template.render(&values).map_err(BackendError::Permanent)?;
        let env = environment(&values);
        let program = self.template.program();
        tracing::info!(command = ?argv, "running the training command");
        let timeout = (self.config.timeout_secs > 0).then(|| Duration::from_secs(self.config.timeout_secs));
        self.registry.stop_orphans();
        let finished = process::run(&argv, &env, timeout, &self.registry).map_err(|e| {
            let message = format!("cannot start the training command `{program}` (CRITICLOOP_BACKEND__COMMAND): {e}");
            match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => BackendError::Permanent(message),
                _ => BackendError::Transient(message),
            }
        })?;
        tracing::info!(status = %finished.describe(), seconds = finished.seconds, "training command finished");
        if !finished.status.success() {
            return Err(self.failure(&program, &finished));
        }
        let mut metrics = output::take_metrics(&out);
        let model_type = output::verify(&out, self.config.verify_load)?;
        let uri = self.checkpoints.publish(&out)?;
        metrics.extend([
            ("backend".to_string(), json!("external")),
            ("command".to_string(), json!(program)),
            ("exit_status".to_string(), json!(0)),
            ("seconds".to_string(), json!(finished.seconds)),
            ("pairs_sent".to_string(), json!(request.pairs.len())),
            ("images_sent".to_string(), json!(images_sent)),
            ("model_type".to_string(), json!(model_type)),
        ]);
        Ok(TrainedCheckpoint { uri, metrics: Value::Object(metrics) })
    }

    fn failure(&self, program: &str, f: &Finished) -> BackendError {
        let tail = if f.stderr_tail.is_empty() {
            "(nothing on stderr)".to_string()
        } else {
            format!("last {} stderr line(s):\n{}", f.stderr_tail.len(), f.stderr_tail.join("\n"))
        };
        let what = format!("the training command `{program}`");
        if f.timed_out {
            return BackendError::Permanent(format!(
                "{what} ran past CRITICLOOP_BACKEND__TIMEOUT_SECS={} and was stopped ({}); {tail}",
                self.config.timeout_secs,
                f.describe()
            ));
        }
        let message = format!("{what} failed with {} after {:.1} s; {tail}", f.describe(), f.seconds);
        match f.status.code() {
            None => BackendError::Transient(message),
            Some(code) if self.config.transient_exit_codes.0.contains(&code) => BackendError::Transient(message),
            Some(_) => BackendError::Permanent(message),
        }
    }
}

impl Trainer for ExternalTrainer {
    fn train(&self, request: &TrainRequest) -> Result<TrainedCheckpoint, BackendError> {
        let span = tracing::info_span!(
            "external.train",
            base = %request.base_uri,
            pairs = request.pairs.len(),
            program = %self.template.program()
        );
        let _entered = span.enter();
        let run = RunDir::create(&self.runs)?;
        let trained = self.run(request, run.path())?;
        tracing::info!(uri = %trained.uri, "trained checkpoint stored");
        Ok(trained)
    }
}

/// The placeholders' values, also as `CRITICLOOP_TRAIN_*` variables for wrapper scripts; Python's output
/// unbuffered so its lines reach the trace as they are printed.
fn environment(v: &Values<'_>) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = [
        ("PAIRS", v.pairs.display().to_string()),
        ("BASE", v.base.display().to_string()),
        ("OUTPUT", v.output.display().to_string()),
        ("WORK", v.work.display().to_string()),
        ("BETA", v.beta.to_string()),
        ("LEARNING_RATE", v.learning_rate.to_string()),
        ("EPOCHS", v.epochs.to_string()),
        ("SEED", v.seed.to_string()),
    ]
    .into_iter()
    .map(|(k, val)| (format!("CRITICLOOP_TRAIN_{k}"), val))
    .collect();
    if std::env::var_os("PYTHONUNBUFFERED").is_none() {
        env.push(("PYTHONUNBUFFERED".into(), "1".into()));
    }
    env
}
