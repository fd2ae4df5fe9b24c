//! Operator commands on a running round: pause holds back new fan-out until resume; cancel stops the
//! round for good. Both through the real API and services.

use criticloop_tests::{Cluster, ClusterOptions, campaign, counts};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn slow(name: &str) -> ClusterOptions {
    ClusterOptions::new(name).env("CRITICLOOP_BACKEND__GENERATE_MS", 100).env("CRITICLOOP_BROKER__BATCH", 4)
}

async fn wait_for(cluster: &Cluster, id: &str, what: &str, ok: impl Fn(&Value) -> bool) -> anyhow::Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = campaign::get(cluster, id).await?;
        if ok(&v) {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "timed out waiting for {what}: {v:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn judgments(v: &Value) -> i64 {
    v["rounds"][0]["counts"]["judgments"].as_i64().unwrap_or(-1)
}

/// A 2-round, 60-prompt, K=4 campaign, returned once its first round has sampled a few prompts.
async fn sampling_campaign(cluster: &Cluster) -> anyhow::Result<String> {
    let dataset = campaign::dataset(cluster, 60, |i| format!("q{i}")).await?;
    let id = campaign::create(cluster, &campaign::spec(&dataset, 2, 4, json!({}))).await?;
    wait_for(cluster, &id, "some prompts sampled", |v| v["rounds"][0]["progress"]["sampling_done"].as_i64() >= Some(8))
        .await?;
    Ok(id)
}

#[tokio::test(flavor = "multi_thread")]
async fn saga_e2e_pause_holds_fan_out_and_resume_completes() -> anyhow::Result<()> {
    let cluster = Cluster::start(slow("saga_pause")).await?;
    let id = sampling_campaign(&cluster).await?;
    let r = cluster.post(&format!("/v1/campaigns/{id}/pause"), &json!({})).await?;
    assert_eq!(r.status().as_u16(), 200);
    // in-flight work drains; then nothing moves
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = campaign::get(&cluster, &id).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = campaign::get(&cluster, &id).await?;
    assert_eq!(after["state"], "paused");
    assert_eq!(after["rounds"][0]["paused"], true);
    assert_eq!(judgments(&before), judgments(&after), "judging went on while paused");
    let held = after["rounds"][0]["progress"]["prompts_by_state"]["generated"].as_i64().unwrap_or(0);
    assert!(held > 0, "generated prompts are held, not fanned out: {after:#}");
    assert!(judgments(&after) < 60 * 12, "the round did not finish before the pause");
    // pausing twice is a conflict, with a JSON reason
    let r = cluster.post(&format!("/v1/campaigns/{id}/pause"), &json!({})).await?;
    assert_eq!(r.status().as_u16(), 409);

    let r = cluster.post(&format!("/v1/campaigns/{id}/resume"), &json!({})).await?;
    assert_eq!(r.status().as_u16(), 200);
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(120)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let pool = cluster.pool().await?;
    for round in view["rounds"].as_array().into_iter().flatten() {
        let tally = counts::judgments(&pool, round["id"].as_str().unwrap_or_default()).await?;
        assert_eq!((tally.expected, tally.present, tally.lost, tally.duplicated), (720, 720, 0, 0), "{tally:?}");
    }
    pool.close().await;
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn saga_e2e_cancel_stops_the_round() -> anyhow::Result<()> {
    let cluster = Cluster::start(slow("saga_cancel")).await?;
    let id = sampling_campaign(&cluster).await?;
    let r = cluster.post(&format!("/v1/campaigns/{id}/cancel"), &json!({})).await?;
    assert_eq!(r.status().as_u16(), 200);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let view = campaign::get(&cluster, &id).await?;
    assert_eq!(view["state"], "cancelled");
    assert_eq!(view["rounds"].as_array().map(Vec::len), Some(1));
    let round = &view["rounds"][0];
    assert_eq!(round["state"], "cancelled");
    assert!(round["result_checkpoint_id"].is_null());
    assert!(judgments(&view) < 60 * 12, "work of a cancelled round was not skipped");
    let r = cluster.post(&format!("/v1/campaigns/{id}/resume"), &json!({})).await?;
    assert_eq!(r.status().as_u16(), 409, "a cancelled campaign cannot resume");
    cluster.teardown().await
}
