//! Shared parts of the chaos tests: a slowed-down round long enough to be disturbed, and the checks
//! that it still ended with every expected effect exactly once.

use crate::{campaign, counts};
use devcluster::{Cluster, ClusterOptions};
use serde_json::Value;
use std::time::Duration;

pub const PROMPTS: usize = 200;
pub const K: u32 = 5;

/// Fake latencies that stretch a 200-prompt round over several seconds, with small batches so a kill
/// always catches work in flight.
pub fn slow(options: ClusterOptions) -> ClusterOptions {
    options
        .env("CRITICLOOP_BACKEND__GENERATE_MS", 150)
        .env("CRITICLOOP_BACKEND__JUDGE_MS", 30)
        .env("CRITICLOOP_BROKER__BATCH", 16)
        // one message per judge task: the most messages in flight when something dies
        .env("CRITICLOOP_SAGA__JUDGE_PAIRS_PER_MESSAGE", 1)
        .env("CRITICLOOP_LEASE__TTL_MS", 2000)
        .env("CRITICLOOP_LEASE__HEARTBEAT_MS", 300)
}

pub async fn start_round(cluster: &Cluster) -> anyhow::Result<String> {
    let dataset = campaign::dataset(cluster, PROMPTS, |i| format!("chaos question {i}")).await?;
    campaign::create(cluster, &campaign::spec(&dataset, 1, K, serde_json::json!({}))).await
}

/// The round's state and judgment count right now (for showing that a disturbance hit work in flight).
pub async fn snapshot(pool: &sqlx::PgPool) -> anyhow::Result<(String, i64)> {
    Ok(sqlx::query_as("select r.state, (select count(*) from judgments) from rounds r limit 1").fetch_one(pool).await?)
}

/// lost = duplicated = unexpected = 0 for judgments, exactly K samples and K rewards per prompt, one
/// pair or none per prompt, and counters that match the rows (no effect counted twice).
pub async fn verify(cluster: &Cluster, id: &str, within: Duration) -> anyhow::Result<Value> {
    let view = campaign::wait_finished(cluster, id, within).await?;
    anyhow::ensure!(view["state"] == "completed", "campaign did not complete: {view:#}");
    let round = &view["rounds"][0];
    let rid = round["id"].as_str().unwrap_or_default().to_string();
    let pool = cluster.pool().await?;
    let tally = counts::judgments(&pool, &rid).await?;
    let expected = (PROMPTS as i64) * i64::from(K * (K - 1));
    anyhow::ensure!(tally.expected == expected, "expected {expected} judgments, the round expects {}", tally.expected);
    anyhow::ensure!(
        (tally.present, tally.lost, tally.unexpected, tally.duplicated) == (expected, 0, 0, 0),
        "judgments: {tally:?}"
    );
    let dup = counts::per_prompt_duplicates(&pool, &rid).await?;
    anyhow::ensure!(dup == 0, "{dup} prompts with a wrong number of samples or rewards");
    let (pairs, pairs_counted, done): (i64, i32, (i32, i32, i32)) = {
        let pairs: i64 = sqlx::query_scalar("select count(*) from pairs where round_id = $1::uuid")
            .bind(&rid)
            .fetch_one(&pool)
            .await?;
        let row: (i32, i32, i32, i32) = sqlx::query_as(
            "select pairs_total, sampling_done, judging_done, aggregating_done from rounds where id = $1::uuid",
        )
        .bind(&rid)
        .fetch_one(&pool)
        .await?;
        (pairs, row.0, (row.1, row.2, row.3))
    };
    let n = PROMPTS as i32;
    anyhow::ensure!(done == (n, n, n), "stage counters {done:?}: an event was applied twice or lost");
    anyhow::ensure!(i64::from(pairs_counted) == pairs, "pairs counted {pairs_counted} but {pairs} rows");
    anyhow::ensure!(round["counts"]["judgments"].as_i64() == Some(expected), "API reports {}", round["counts"]);
    let trained: i64 = sqlx::query_scalar("select count(*) from checkpoints where round_id = $1::uuid")
        .bind(&rid)
        .fetch_one(&pool)
        .await?;
    anyhow::ensure!(trained == 1, "{trained} checkpoints for the round");
    pool.close().await;
    Ok(view)
}

/// Which connections a proxy cut interrupts.
#[derive(Debug, Clone, Copy)]
pub enum Link {
    Broker,
    Database,
}

/// Runs the slowed round with every service's `link` through a proxy, cuts all its connections twice
/// mid-round (1.5 s outage each), and verifies the round.
pub async fn cut_mid_round(name: &str, link: Link) -> anyhow::Result<()> {
    let target = match link {
        Link::Broker => "127.0.0.1:5672",
        Link::Database => "127.0.0.1:5432",
    };
    let proxy = devcluster::Proxy::start(target).await?;
    let mut options = slow(ClusterOptions::new(name));
    match link {
        Link::Broker => options.broker_port = Some(proxy.port),
        Link::Database => options.database_port = Some(proxy.port),
    }
    let cluster = Cluster::start(options).await?;
    let pool = cluster.pool().await?;
    let id = start_round(&cluster).await?;
    let mut in_flight = 0;
    for wait in [800, 2000] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (state, judgments) = snapshot(&pool).await?;
        eprintln!("cutting {link:?} connections: round {state}, judgments {judgments}");
        if matches!(state.as_str(), "sampling" | "judging" | "aggregating") {
            in_flight += 1;
        }
        proxy.cut(Duration::from_millis(1500)).await;
    }
    anyhow::ensure!(in_flight >= 1, "no cut hit the round while it was working");
    verify(&cluster, &id, Duration::from_secs(240)).await?;
    pool.close().await;
    cluster.teardown().await
}
