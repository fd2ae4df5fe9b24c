//! Model backends behind small traits, so one saga runs on any of them. The traits are synchronous
//! (a model owns its thread); workers call them from a blocking task. Each call takes a batch and
//! answers per item, so one bad item does not fail its neighbours.
//!
//! Built here: the FAKE backend (deterministic outputs from hashes, configurable latency and
//! failure injection) for saga tests and for measuring the system's own overhead. It is never a
//! default: a worker without `CRITICLOOP_BACKEND__KIND` refuses to start.
//!
//! The `tch` backend (in-process libtorch models) lives in `shared/backend-tch`, so that only the
//! services that run it link libtorch; its configuration ([`TchConfig`]) is here, with the others, as is
//! that of the `external` trainer ([`ExternalConfig`], built by `shared/backend-external`).

mod config;
mod external_config;
pub mod fake;
mod tch_config;
mod traits;

pub use config::{BackendConfig, Backends, build};
pub use external_config::{ExitCodes, ExternalConfig};
pub use tch_config::TchConfig;
pub use traits::{
    BackendError, Critic, CriticSuites, EvalItem, EvaluateRequest, Evaluator, GenerateRequest, JudgeRequest, Policy,
    TrainPair, TrainRequest, TrainedCheckpoint, Trainer,
};
