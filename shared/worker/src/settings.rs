use config::{BrokerConfig, DatabaseConfig, HealthConfig, LeaseConfig, SagaConfig};
use serde::Deserialize;

/// Every service's settings. Sections a service does not use are ignored, so one environment (a
/// compose file, a Helm ConfigMap) can serve all services.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub database: DatabaseConfig,
    pub broker: BrokerConfig,
    #[serde(default)]
    pub health: HealthConfig,
    #[serde(default)]
    pub lease: LeaseConfig,
    #[serde(default)]
    pub saga: SagaConfig,
    pub backend: Option<backend::BackendConfig>,
    /// The artifact store (`CRITICLOOP_ARTIFACTS__*`); see [`Settings::artifact_store`].
    #[serde(default)]
    pub artifacts: Option<artifacts::StoreConfig>,
}

impl Settings {
    pub fn load() -> Result<Self, config::ConfigError> {
        config::load(serde_json::json!({}))
    }

    /// The artifact store's configuration: the `artifacts` section, or a local directory
    /// (`.criticloop/artifacts` under the working directory) when the section is absent.
    pub fn artifact_store(&self) -> artifacts::StoreConfig {
        self.artifacts.clone().unwrap_or_else(|| artifacts::StoreConfig::local(".criticloop/artifacts"))
    }

    /// The backend section (services build it with `backend_tch::build`); workers refuse to start without
    /// one (the fake is never a default).
    pub fn backend_config(&self) -> anyhow::Result<&backend::BackendConfig> {
        self.backend.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "CRITICLOOP_BACKEND__KIND is not set: choose a model backend (`fake`, or `tch` where built)"
            )
        })
    }
}
