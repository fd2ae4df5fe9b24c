//! Sections every service shares. Service-specific sections live with the service.

use crate::Secret;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user@host:port/db`
    pub url: Secret,
    #[serde(default = "default_max_connections")]
    pub max_connections: u32,
}

fn default_max_connections() -> u32 {
    8
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// `amqp://user:password@host:port/vhost`
    pub url: Secret,
    /// Prefix of every exchange and queue name, so that several deployments (or tests) share a broker.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// Unacknowledged deliveries a consumer holds at once.
    #[serde(default = "default_prefetch")]
    pub prefetch: u16,
    /// Most deliveries of one message; the queue dead-letters it after that many failed ones (at least 2).
    #[serde(default = "default_delivery_limit")]
    pub delivery_limit: u32,
    /// Most messages a batched consumer commits in one transaction.
    #[serde(default = "default_batch")]
    pub batch: usize,
    /// Batches a worker handles at once (each in its own transaction).
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    4
}

fn default_prefix() -> String {
    "criticloop".into()
}
fn default_prefetch() -> u16 {
    512
}
fn default_delivery_limit() -> u32 {
    10
}
fn default_batch() -> usize {
    128
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// Address of the `/healthz` and `/readyz` probes.
    #[serde(default = "default_health_listen")]
    pub listen: String,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self { listen: default_health_listen() }
    }
}

fn default_health_listen() -> String {
    "0.0.0.0:9090".into()
}

/// Leases for long tasks: how long one lasts without a heartbeat, and how often the holder renews it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseConfig {
    #[serde(default = "default_lease_ttl")]
    pub ttl_ms: u64,
    #[serde(default = "default_heartbeat")]
    pub heartbeat_ms: u64,
}

impl Default for LeaseConfig {
    fn default() -> Self {
        Self { ttl_ms: default_lease_ttl(), heartbeat_ms: default_heartbeat() }
    }
}

fn default_lease_ttl() -> u64 {
    60_000
}
fn default_heartbeat() -> u64 {
    10_000
}

/// How the orchestrator shapes a round's work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SagaConfig {
    /// Judge tasks (ordered pairs) per message; 0 puts all K(K-1) pairs of a prompt in one message.
    /// Each pair stays its own task with its own key and row; grouping only saves broker work.
    #[serde(default)]
    pub judge_pairs_per_message: usize,
    /// Most events the orchestrator applies in one transaction.
    #[serde(default = "default_event_batch")]
    pub event_batch: usize,
    /// Judge-job chunks in flight at once across all jobs (the backlog dispatcher's window). Enough to
    /// keep every judging worker's batches full; small enough that a new urgent job waits for little.
    #[serde(default = "default_backlog_window")]
    pub backlog_window: u32,
    /// Items per judge-job chunk (one message, one unit of dispatch).
    #[serde(default = "default_judge_chunk_items")]
    pub judge_chunk_items: u32,
}

fn default_backlog_window() -> u32 {
    64
}

fn default_judge_chunk_items() -> u32 {
    32
}

fn default_event_batch() -> usize {
    512
}

impl Default for SagaConfig {
    fn default() -> Self {
        Self {
            judge_pairs_per_message: 0,
            event_batch: default_event_batch(),
            backlog_window: default_backlog_window(),
            judge_chunk_items: default_judge_chunk_items(),
        }
    }
}
