//! Layered configuration: a service's defaults, then an optional file named by `CRITICLOOP_CONFIG`
//! (TOML or JSON), then `CRITICLOOP_SECTION__KEY=value` environment variables, which is what compose and
//! Helm set. Values that parse as JSON scalars (numbers, booleans) are taken as such.

mod layers;
mod secret;
mod sections;

pub use layers::{ConfigError, load, load_from};
pub use secret::Secret;
pub use sections::{BrokerConfig, DatabaseConfig, HealthConfig, LeaseConfig, SagaConfig};
