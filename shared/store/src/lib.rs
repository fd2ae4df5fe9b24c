//! All SQL lives here: the pool, migrations, and one module per concern. Functions take a
//! `&mut PgConnection` so callers compose them inside one transaction (a state change and the
//! messages it causes commit together, through the outbox).

pub mod artifact_refs;
pub mod campaigns;
pub mod checkpoints;
pub mod dataset_import;
pub mod datasets;
pub mod failures;
pub mod judge_jobs;
pub mod leases;
pub mod model_text;
pub mod outbox;
mod pool;
pub mod progress;
pub mod results;
pub mod rounds;

pub use pool::{MIGRATOR, connect, connect_with_backoff, is_retryable, migrate};
pub use sqlx::{PgConnection, PgPool, Postgres, Transaction};
