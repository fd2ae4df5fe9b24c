//! The `external` backend (`CRITICLOOP_BACKEND__KIND=external`): the training service hands each round's
//! DPO to a command of the team's own, such as `scripts/trainers/trl_dpo.py` (TRL's `DPOTrainer`) run
//! directly or under `accelerate launch` or `torchrun` on a multi-GPU node, or OpenRLHF. Trainer only: the
//! other services keep their own backend kind.
//!
//! One round, one run ([`ExternalTrainer`]):
//! 1. the base checkpoint is resolved as the tch backend does (`sha256:` directory artifacts are
//!    downloaded once into `work_dir/checkpoints/<hex>`, local folders are used in place);
//! 2. the pairs are written as JSONL in TRL's format (the pair export's rows plus `id`; `sha256:` images
//!    fetched into the run folder and named by absolute path);
//! 3. the command template is filled in (see [`template`]) and run without a shell (unless `shell`), in
//!    its own process group, with the service's `CRITICLOOP_*__*` configuration (its secrets) removed
//!    from its environment and the placeholders' values added as `CRITICLOOP_TRAIN_*`; each line it
//!    prints becomes a tracing event in the task's span (so it reaches the round's trace); past
//!    `timeout_secs` its whole process group is stopped;
//! 4. on exit 0, `{output}` must hold a Hugging Face checkpoint (`config.json`, safetensors) that
//!    criticloop's runtime loads (`verify_load`); its `metrics.json`, if any, is taken out and recorded
//!    with the exit status and wall time; the checkpoint is stored with `put_dir` and its `sha256:` URI
//!    returned. The trainer module documents which failures are retried.
//!
//! A worker killed mid-run cannot stop its command; the next worker on the host to run a command (or to
//! start) stops it first ([`orphans`]), so two runs of a round never train side by side there.

pub mod orphans;
mod output;
mod pairs;
pub mod process;
pub mod template;
mod trainer;

use std::sync::Arc;

use backend::{BackendConfig, Backends, ExternalConfig};
use backend_tch::Checkpoints;

pub use output::METRICS;
pub use trainer::ExternalTrainer;

/// Builds `external` here and every other kind with `backend_tch::build` (the training service's
/// builder). Call it inside the worker's tokio runtime (artifact transfers run on it).
pub fn build(config: &BackendConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    match config {
        BackendConfig::External(c) => build_external(c, store),
        other => backend_tch::build(other, store),
    }
}

fn build_external(config: &ExternalConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    let store = artifacts::ArtifactStore::open(store).map_err(|e| format!("the artifact store: {e}"))?;
    let io = backend_tch::io::Io::current_or_new().map_err(|e| format!("starting a runtime for artifact I/O: {e}"))?;
    let checkpoints = Checkpoints::new(store.clone(), io.clone(), &config.work_dir);
    let pairs = pairs::PairWriter { store, io };
    let trainer = Arc::new(ExternalTrainer::new(config, checkpoints, pairs)?);
    let unsupported = Arc::new(Unsupported);
    Ok(Backends {
        name: "external",
        policy: unsupported.clone(),
        critic: unsupported.clone(),
        trainer,
        evaluator: unsupported,
    })
}

/// The external backend trains only; every other call fails permanently, saying so.
struct Unsupported;

fn not_built(part: &str) -> backend::BackendError {
    backend::BackendError::Permanent(format!(
        "the external backend has no {part} (it runs training commands only); give this service another \
         CRITICLOOP_BACKEND__KIND"
    ))
}

impl backend::Policy for Unsupported {
    fn generate(&self, batch: &[backend::GenerateRequest]) -> Vec<Result<Vec<String>, backend::BackendError>> {
        batch.iter().map(|_| Err(not_built("policy"))).collect()
    }
}

impl backend::Critic for Unsupported {
    fn judge(&self, batch: &[backend::JudgeRequest]) -> Vec<Result<String, backend::BackendError>> {
        batch.iter().map(|_| Err(not_built("critic"))).collect()
    }
}

impl backend::Evaluator for Unsupported {
    fn evaluate(
        &self,
        _: &backend::EvaluateRequest,
    ) -> Result<Vec<(String, serde_json::Value)>, backend::BackendError> {
        Err(not_built("evaluator"))
    }
}
