use crate::fake::{FakeBackend, FakeConfig};
use crate::{Critic, Evaluator, ExternalConfig, Policy, TchConfig, Trainer};
use serde::Deserialize;
use std::sync::Arc;

/// `CRITICLOOP_BACKEND__KIND` selects the backend; its other keys configure it.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum BackendConfig {
    /// Deterministic outputs for saga tests and overhead measurements. Not a model.
    Fake(FakeConfig),
    /// In-process Qwen2 through libtorch: built by `backend_tch::build` (`shared/backend-tch`), which
    /// the services that run it link: generation (policy), judging (critic) and training (DPO).
    Tch(TchConfig),
    /// A training command of the team's own, run per round: built by `backend_external::build`
    /// (`shared/backend-external`), which only the training service links. Trainer only.
    External(ExternalConfig),
    /// A serving engine over the OpenAI API (not built yet).
    Openai,
}

/// The models a worker calls.
#[derive(Clone)]
pub struct Backends {
    pub name: &'static str,
    pub policy: Arc<dyn Policy>,
    pub critic: Arc<dyn Critic>,
    pub trainer: Arc<dyn Trainer>,
    pub evaluator: Arc<dyn Evaluator>,
}

/// Builds the backends this crate holds (the fake); `tch` is built by `backend_tch::build`, which
/// delegates the other kinds here.
pub fn build(config: &BackendConfig) -> Result<Backends, String> {
    match config {
        BackendConfig::Fake(c) => {
            let fake = Arc::new(FakeBackend::new(c.clone()));
            Ok(Backends {
                name: "fake",
                policy: fake.clone(),
                critic: fake.clone(),
                trainer: fake.clone(),
                evaluator: fake,
            })
        }
        BackendConfig::Tch(_) => {
            Err("backend kind `tch` is built by backend_tch::build, which this service does not link \
             (generation, judging and training do); set CRITICLOOP_BACKEND__KIND=fake for the fake backend"
                .into())
        }
        BackendConfig::External(_) => Err("backend kind `external` runs training commands and is built only into \
             criticloop-training; set CRITICLOOP_BACKEND__KIND=fake for the fake backend"
            .into()),
        BackendConfig::Openai => {
            Err("backend kind `openai` is not built yet; set CRITICLOOP_BACKEND__KIND=fake for the fake backend".into())
        }
    }
}
