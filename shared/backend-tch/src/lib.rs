//! The `tch` backend: criticloop's model traits (`backend::{Policy, Critic, Trainer, Evaluator}`) on the
//! in-process libtorch runtime of `shared/model` and the DPO trainer of `shared/train`, with checkpoints
//! moved through the artifact store (`shared/artifacts`).
//!
//! Its own crate so that only the services that run models link libtorch, and so that `backend` keeps
//! the traits, the configuration of every kind and the fake free of model code. Services call
//! [`build`], which builds `tch` here and hands every other kind to `backend::build`.
//!
//! Built so far: the [`TchTrainer`] (DPO). The policy, critic and evaluator of this backend are not built
//! yet; their calls fail permanently with a message saying so.
//!
//! Contracts:
//! - calls are synchronous and run on a blocking thread of the worker's runtime (artifact transfers are
//!   driven on that runtime, see [`io::Io`]); one thread owns a model for the length of a call;
//! - a base checkpoint is `sha256:<hex>` (a directory artifact) or a local folder; fetched artifacts are
//!   cached by digest under `work_dir/checkpoints`, and a trained checkpoint is stored in the Hugging Face
//!   layout as a `sha256:` directory artifact;
//! - bad pairs (an image for the text-only trainer, an empty response, longer than the context, ...) are
//!   reported per pair in the metrics and the rest train; a round with no usable pair fails permanently,
//!   with every pair's reason.

mod checkpoints;
pub mod io;
pub mod pairs;
mod trainer;
mod unsupported;

use std::sync::Arc;

use backend::{BackendConfig, Backends, TchConfig};

pub use checkpoints::Checkpoints;
pub use trainer::{TchTrainer, trl_metrics};

/// Builds the configured backend: `tch` here, every other kind by `backend::build`. Call it inside the
/// worker's tokio runtime (artifact transfers run on it).
pub fn build(config: &BackendConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    match config {
        BackendConfig::Tch(c) => build_tch(c, store),
        other => backend::build(other),
    }
}

fn build_tch(config: &TchConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    let store = artifacts::ArtifactStore::open(store).map_err(|e| format!("the artifact store: {e}"))?;
    let io = io::Io::current_or_new().map_err(|e| format!("starting a runtime for artifact I/O: {e}"))?;
    let checkpoints = Checkpoints::new(store, io, &config.work_dir);
    let trainer = Arc::new(TchTrainer::new(config, checkpoints)?);
    let unsupported = Arc::new(unsupported::Unsupported);
    Ok(Backends {
        name: "tch",
        policy: unsupported.clone(),
        critic: unsupported.clone(),
        trainer,
        evaluator: unsupported,
    })
}
