//! Long tasks run under a lease: not redelivered while their worker lives, taken over when it dies.

use criticloop_tests::{Cluster, ClusterOptions, Service, campaign};
use serde_json::json;
use std::time::{Duration, Instant};

fn options(name: &str, train_ms: u64) -> ClusterOptions {
    ClusterOptions::new(name)
        .env("CRITICLOOP_BACKEND__TRAIN_MS", train_ms)
        .env("CRITICLOOP_LEASE__TTL_MS", 1000)
        .env("CRITICLOOP_LEASE__HEARTBEAT_MS", 200)
}

async fn lease_attempts(pool: &sqlx::PgPool, round: &str) -> anyhow::Result<Option<i32>> {
    Ok(sqlx::query_scalar("select attempt from task_leases where task_key = 'train/' || $1")
        .bind(round)
        .fetch_optional(pool)
        .await?)
}

fn log_count(cluster: &Cluster, service: Service, needle: &str) -> usize {
    std::fs::read_to_string(cluster.log_path(service)).unwrap_or_default().matches(needle).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn lease_long_task_of_a_live_worker_is_not_redelivered() -> anyhow::Result<()> {
    // Training takes 4 s, four times the lease TTL: only heartbeats keep it.
    let cluster = Cluster::start(options("lease_live", 4000)).await?;
    let dataset = campaign::dataset(&cluster, 5, |i| format!("q{i}")).await?;
    let id = campaign::create(&cluster, &campaign::spec(&dataset, 1, 3, json!({}))).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = view["rounds"][0]["id"].as_str().expect("round").to_string();
    let pool = cluster.pool().await?;
    assert_eq!(lease_attempts(&pool, &round).await?, Some(1), "the lease was never taken over");
    assert_eq!(log_count(&cluster, Service::Training, "lease acquired"), 1, "trained exactly once");
    assert_eq!(log_count(&cluster, Service::Orchestrator, "lease expired"), 0);
    let checkpoints: i64 = sqlx::query_scalar("select count(*) from checkpoints where round_id = $1::uuid")
        .bind(&round)
        .fetch_one(&pool)
        .await?;
    assert_eq!(checkpoints, 1);
    pool.close().await;
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn lease_task_of_a_dead_worker_is_taken_over() -> anyhow::Result<()> {
    let mut cluster = Cluster::start(options("lease_dead", 3000)).await?;
    let dataset = campaign::dataset(&cluster, 5, |i| format!("q{i}")).await?;
    let id = campaign::create(&cluster, &campaign::spec(&dataset, 1, 3, json!({}))).await?;
    let pool = cluster.pool().await?;
    // wait until the training worker holds the lease, then kill it mid-task
    let deadline = Instant::now() + Duration::from_secs(60);
    let round = loop {
        let held: Option<(String,)> = sqlx::query_as(
            "select substr(task_key, 7) from task_leases where task_key like 'train/%' and completed_at is null",
        )
        .fetch_optional(&pool)
        .await?;
        if let Some((round,)) = held {
            break round;
        }
        anyhow::ensure!(Instant::now() < deadline, "training never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    cluster.kill(Service::Training).await;
    cluster.start_service(Service::Training)?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    assert_eq!(lease_attempts(&pool, &round).await?, Some(2), "taken over once");
    assert!(log_count(&cluster, Service::Orchestrator, "lease expired; republishing") >= 1);
    let checkpoints: i64 = sqlx::query_scalar("select count(*) from checkpoints where round_id = $1::uuid")
        .bind(&round)
        .fetch_one(&pool)
        .await?;
    assert_eq!(checkpoints, 1, "one checkpoint despite two attempts");
    pool.close().await;
    cluster.teardown().await
}
