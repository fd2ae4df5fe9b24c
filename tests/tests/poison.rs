//! Poison tasks: delivered at most the configured number of times, dead-lettered, recorded with their
//! reason; the round then follows its failure policy.

use criticloop_tests::{Cluster, ClusterOptions, campaign};
use serde_json::{Value, json};
use std::time::Duration;

const LIMIT: u32 = 3;

fn options(name: &str) -> ClusterOptions {
    let mut o =
        ClusterOptions::new(name).env("CRITICLOOP_LEASE__TTL_MS", 1000).env("CRITICLOOP_LEASE__HEARTBEAT_MS", 200);
    o.delivery_limit = LIMIT;
    o
}

/// Prompts 3 and 7 of 40 always fail in judging.
fn question(i: usize) -> String {
    if i == 3 || i == 7 { format!("poisoned {i} [[fake-fail:judge]]") } else { format!("question {i}") }
}

async fn failures(cluster: &Cluster, id: &str) -> anyhow::Result<Vec<Value>> {
    let v: Value = cluster.get(&format!("/v1/campaigns/{id}/rounds/1/failures")).await?.json().await?;
    Ok(v["failures"].as_array().cloned().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_judge_tasks_dead_letter_and_skip_policy_completes() -> anyhow::Result<()> {
    // all 6 pairs of a prompt in one message: one dead message per poisoned prompt
    skip_policy(options("poison_skip"), 2).await
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_judge_tasks_one_pair_per_message() -> anyhow::Result<()> {
    // one message per judge task: 2 prompts x 6 ordered pairs dead
    skip_policy(options("poison_pairs").env("CRITICLOOP_SAGA__JUDGE_PAIRS_PER_MESSAGE", 1), 12).await
}

async fn skip_policy(options: ClusterOptions, dead_messages: usize) -> anyhow::Result<()> {
    let cluster = Cluster::start(options).await?;
    let dataset = campaign::dataset(&cluster, 40, question).await?;
    let spec = campaign::spec(&dataset, 1, 3, json!({"failure_policy": {"mode": "skip", "max_failed_fraction": 0.1}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(120)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = &view["rounds"][0];
    assert_eq!(round["prompts_failed"], 2);
    assert_eq!(round["progress"]["prompts_by_state"]["failed"], 2);
    assert_eq!(round["progress"]["prompts_by_state"]["aggregated"], 38);
    assert_eq!(round["counts"]["judgments"], 38 * 6, "no judgment of a poisoned prompt was stored");

    let failed = failures(&cluster, &id).await?;
    assert_eq!(failed.len(), dead_messages, "{failed:#?}");
    for f in &failed {
        assert_eq!(f["dead"], true, "{f}");
        assert_eq!(f["stage"], "judge");
        let reason = f["dead_reason"].as_str().unwrap_or_default();
        assert!(reason.contains("delivery limit reached"), "{reason}");
        assert!(reason.contains("injected judge failure"), "{reason}");
        // delivered exactly the configured number of times, each delivery recorded as an attempt
        assert_eq!(f["attempts"].as_i64(), Some(i64::from(LIMIT)), "{f}");
    }
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_strict_policy_fails_the_round_with_a_reason() -> anyhow::Result<()> {
    let cluster = Cluster::start(options("poison_strict")).await?;
    let dataset = campaign::dataset(&cluster, 20, question).await?;
    let spec = campaign::spec(&dataset, 2, 3, json!({"failure_policy": {"mode": "fail_round"}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(120)).await?;
    assert_eq!(view["state"], "failed", "{view:#}");
    assert_eq!(view["rounds"].as_array().map(Vec::len), Some(1), "no second round after a failed one");
    let round = &view["rounds"][0];
    assert_eq!(round["state"], "failed");
    let reason = round["failure_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("failure policy") && reason.contains("injected judge failure"), "{reason}");
    assert!(view["failure_reason"].as_str().unwrap_or_default().starts_with("round 1:"));
    // compensation: the campaign stays on its base checkpoint
    assert_eq!(view["current_checkpoint_id"], round["base_checkpoint_id"]);
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_failed_training_leaves_the_campaign_on_its_checkpoint() -> anyhow::Result<()> {
    let cluster = Cluster::start(options("poison_train")).await?;
    let dataset = campaign::dataset(&cluster, 10, |i| format!("q{i}")).await?;
    let spec = campaign::spec(&dataset, 2, 3, json!({"policy": {"checkpoint": "fake://base [[fake-fail:train]]"}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(120)).await?;
    assert_eq!(view["state"], "failed", "{view:#}");
    let round = &view["rounds"][0];
    assert_eq!(round["state"], "failed");
    assert!(round["result_checkpoint_id"].is_null());
    assert_eq!(view["current_checkpoint_id"], round["base_checkpoint_id"]);
    let reason = round["failure_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("train") && reason.contains("injected training failure"), "{reason}");
    let failed = failures(&cluster, &id).await?;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"].as_i64(), Some(i64::from(LIMIT)), "{failed:?}");
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn poison_malformed_message_is_dead_lettered_and_recorded() -> anyhow::Result<()> {
    let cluster = Cluster::start(options("poison_malformed")).await?;
    let conn = lapin::Connection::connect(&cluster.options.broker_url, lapin::ConnectionProperties::default()).await?;
    let ch = conn.create_channel().await?;
    ch.confirm_select(Default::default()).await?;
    for (kind, body) in [("judge.v1", "{not json"), ("judge.v99", "{}")] {
        ch.basic_publish(
            format!("{}.tasks", cluster.prefix).into(),
            "judge".into(),
            Default::default(),
            body.as_bytes(),
            lapin::BasicProperties::default().with_type(kind.into()).with_delivery_mode(2),
        )
        .await?
        .await?;
    }
    let pool = cluster.pool().await?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let rows: Vec<(String, String)> = loop {
        let rows: Vec<(String, String)> =
            sqlx::query_as("select task_key, dead_reason from task_failures where dead order by task_key")
                .fetch_all(&pool)
                .await?;
        if rows.len() >= 2 || std::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.iter()
            .any(|(_, r)| r.contains("rejected by its worker") && r.contains("unknown message type `judge.v99`")),
        "{rows:?}"
    );
    assert!(rows.iter().any(|(_, r)| r.contains("malformed `judge.v1` message body")), "{rows:?}");
    let _ = conn.close(200, "done".into()).await;
    pool.close().await;
    cluster.teardown().await
}
