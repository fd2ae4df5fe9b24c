//! Helpers for the end-to-end tests: datasets and campaigns through the real API, waiting on the
//! saga, and the counts the chaos tests check (lost, duplicated, unexpected).

pub mod backlog;
pub mod campaign;
pub mod chaos;
pub mod checkpoints;
pub mod cli;
pub mod counts;
pub mod fixtures;
pub mod otlp;
pub mod small_world;
pub mod tch;

pub use devcluster::{Cluster, ClusterOptions, Proxy, Service};
