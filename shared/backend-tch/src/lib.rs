//! The `tch` backend: criticloop's model traits (`backend::{Policy, Critic, Trainer, Evaluator}`) on the
//! in-process libtorch runtime of `shared/model` and the DPO trainer of `shared/train`, with checkpoints
//! moved through the artifact store (`shared/artifacts`).
//!
//! Its own crate so that only the services that run models link libtorch, and so that `backend` keeps
//! the traits, the configuration of every kind and the fake free of model code. Services call
//! [`build`], which builds `tch` here and hands every other kind to `backend::build`.
//!
//! Built: the [`TchPolicy`] (K samples per prompt sharing a prefill, Qwen2 or LLaVA-OneVision), the
//! [`TchCritic`] (greedy critic text, with the item's image), the [`TchTrainer`] (DPO, text or images) and
//! the [`TchEvaluator`] (greedy answers to the campaign's held-out rows, scored against a generated world's
//! ground truth by [`suites`]).
//!
//! Contracts:
//! - calls are synchronous and run on a blocking thread of the worker's runtime (artifact transfers are
//!   driven on that runtime, see [`io::Io`]); the policy's and critic's models live on one model thread
//!   ([`host`]), in a least-recently-used cache of `cached_models` checkpoints keyed by their folder; the
//!   trainer owns its model for the length of a call;
//! - a base checkpoint is `sha256:<hex>` (a directory artifact) or a local folder; fetched artifacts are
//!   cached by digest under `work_dir/checkpoints`, and a trained checkpoint is stored in the Hugging Face
//!   layout as a `sha256:` directory artifact;
//! - generation and judging answer per item: a bad request (settings, a missing or corrupt image, a prompt
//!   over the context) fails alone and permanently; a checkpoint that cannot load fails its items;
//! - bad pairs (an image for a text-only policy, a missing image, an empty response, longer than the context, ...) are
//!   reported per pair in the metrics and the rest train; a round with no usable pair fails permanently,
//!   with every pair's reason.

pub mod baseline;
mod batches;
mod checkpoints;
mod critic;
mod evaluator;
pub mod heldout_rows;
pub mod host;
pub mod images;
pub mod io;
pub mod judged;
mod loaded;
pub mod pairs;
mod policy;
mod resume;
mod run_dir;
pub mod suites;
mod trainer;

use std::sync::Arc;

use backend::{BackendConfig, Backends, TchConfig};

pub use checkpoints::Checkpoints;
pub use critic::{TchCritic, critic_text};
pub use evaluator::TchEvaluator;
pub use loaded::ModelCache;
pub use policy::{TchPolicy, generate_config};
pub use run_dir::RunDir;
pub use trainer::{TchTrainer, trl_metrics};

/// Builds the configured backend: `tch` here, every other kind by `backend::build`. Call it inside the
/// worker's tokio runtime (artifact transfers run on it).
pub fn build(config: &BackendConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    let mut backends = match config {
        BackendConfig::Tch(c) => build_tch(c, store)?,
        other => backend::build(other)?,
    };
    // Campaigns whose critic is `baseline:oracle` or `baseline:random` are judged without a model.
    backends.critic = Arc::new(baseline::BaselineCritic { inner: backends.critic });
    Ok(backends)
}

fn build_tch(config: &TchConfig, store: &artifacts::StoreConfig) -> Result<Backends, String> {
    let store = artifacts::ArtifactStore::open(store).map_err(|e| format!("the artifact store: {e}"))?;
    let io = io::Io::current_or_new().map_err(|e| format!("starting a runtime for artifact I/O: {e}"))?;
    for (key, value) in [
        ("CACHED_MODELS", config.cached_models),
        ("GENERATE_BATCH_SIZE", config.generate_batch_size),
        ("JUDGE_BATCH_SIZE", config.judge_batch_size),
    ] {
        if value == 0 {
            return Err(format!("CRITICLOOP_BACKEND__{key}: must be at least 1"));
        }
    }
    let images = images::Images::new(store.clone(), io.clone());
    let trainer = Arc::new(TchTrainer::new(
        config,
        Checkpoints::new(store.clone(), io.clone(), &config.work_dir),
        images.clone(),
    )?);
    let checkpoints = Arc::new(Checkpoints::new(store, io, &config.work_dir));
    let host = Arc::new(host::ModelHost::start(ModelCache::new(trainer::load_options(config)?, config.cached_models))?);
    let policy = Arc::new(TchPolicy {
        host: host.clone(),
        checkpoints: checkpoints.clone(),
        images: images.clone(),
        batch_size: config.generate_batch_size,
    });
    let critic = Arc::new(TchCritic {
        host,
        checkpoints,
        images,
        batch_size: config.judge_batch_size,
        max_new_tokens: config.critic_max_new_tokens,
    });
    let evaluator = Arc::new(TchEvaluator { policy: policy.clone(), critic: critic.clone() });
    Ok(Backends { name: "tch", policy, critic, trainer, evaluator })
}
