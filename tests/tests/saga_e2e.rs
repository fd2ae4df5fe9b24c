//! The round saga end to end through the real binaries, RabbitMQ and Postgres (fake model backend).

use criticloop_tests::{Cluster, ClusterOptions, campaign, counts};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn saga_e2e_two_rounds_fifty_prompts_k5() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("saga_e2e")).await?;
    let dataset = campaign::dataset(&cluster, 50, |i| format!("What is in image {i}?")).await?;
    let id = campaign::create(&cluster, &campaign::spec(&dataset, 2, 5, serde_json::json!({}))).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(120)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let rounds = view["rounds"].as_array().expect("rounds");
    assert_eq!(rounds.len(), 2);

    let pool = cluster.pool().await?;
    for r in rounds {
        let rid = r["id"].as_str().expect("round id");
        // exactly 50 * 20 judgments, one pair per prompt, as the API reports
        let tally = counts::judgments(&pool, rid).await?;
        assert_eq!(tally.expected, 1000);
        assert_eq!((tally.present, tally.lost, tally.unexpected, tally.duplicated), (1000, 0, 0, 0), "{tally:?}");
        assert_eq!(counts::per_prompt_duplicates(&pool, rid).await?, 0);
        let pairs: i64 = sqlx::query_scalar("select count(*) from pairs where round_id = $1::uuid")
            .bind(rid)
            .fetch_one(&pool)
            .await?;
        let no_pair: i64 = sqlx::query_scalar(
            "select count(*) from round_prompts rp where round_id = $1::uuid and not exists
             (select 1 from pairs p where p.round_id = rp.round_id and p.prompt_id = rp.prompt_id)",
        )
        .bind(rid)
        .fetch_one(&pool)
        .await?;
        // every prompt either has its one pair or had all-equal rewards (the fake critic ties rarely)
        assert_eq!(pairs + no_pair, 50);
        assert!(pairs >= 45, "pairs {pairs}");
        assert_eq!(r["counts"]["judgments"], 1000);
        assert_eq!(r["counts"]["samples"], 250);
        assert_eq!(r["counts"]["pairs"], pairs);
        assert_eq!(r["state"], "completed");
    }
    // lineage: round 2 starts from round 1's checkpoint, whose parent is round 1's base
    assert_eq!(rounds[1]["base_checkpoint_id"], rounds[0]["result_checkpoint_id"]);
    let parent: Option<uuid::Uuid> = sqlx::query_scalar("select parent_id from checkpoints where id = $1::uuid")
        .bind(rounds[0]["result_checkpoint_id"].as_str().expect("checkpoint"))
        .fetch_one(&pool)
        .await?;
    assert_eq!(parent.map(|p| p.to_string()).as_deref(), rounds[0]["base_checkpoint_id"].as_str());
    assert_eq!(view["current_checkpoint_id"], rounds[1]["result_checkpoint_id"]);

    // the exported pairs match the count, in every format, with exactly that format's keys
    let expected = rounds[0]["counts"]["pairs"].as_i64().unwrap_or(-1);
    for (format, keys) in [
        ("", vec!["chosen", "chosen_reward", "id", "image", "prompt", "rejected", "rejected_reward"]),
        ("?format=llava", vec!["chosen", "id", "image", "prompt", "rejected"]),
        ("?format=trl", vec!["chosen", "images", "prompt", "rejected"]),
    ] {
        let body = cluster.get(&format!("/v1/campaigns/{id}/rounds/1/pairs{format}")).await?.text().await?;
        assert_eq!(body.lines().count() as i64, expected, "{format}");
        for line in body.lines() {
            let v: serde_json::Value = serde_json::from_str(line)?;
            let mut got: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
            got.sort();
            assert_eq!(got, keys, "{format}: {line}");
        }
    }
    // the judgments export: every ordered pair of every prompt once, with its parsed preference
    let body = cluster.get(&format!("/v1/campaigns/{id}/rounds/1/judgments")).await?.text().await?;
    let mut seen = std::collections::HashSet::new();
    for line in body.lines() {
        let v: serde_json::Value = serde_json::from_str(line)?;
        let (i, j) = (v["i"].as_i64().expect("i"), v["j"].as_i64().expect("j"));
        assert!(i != j && (0..5).contains(&i) && (0..5).contains(&j), "{line}");
        assert!(seen.insert((v["id"].to_string(), i, j)), "a repeated judgment: {line}");
        assert!(matches!(v["preference"].as_str(), Some("first" | "second" | "tie")), "{line}");
        assert_eq!(v["verdict"]["status"], "verdict", "{line}");
        assert!(v["first"].is_string() && v["second"].is_string() && v["raw_output"].is_string(), "{line}");
    }
    assert_eq!(seen.len(), 1000);
    let r = cluster.get(&format!("/v1/campaigns/{id}/rounds/9/judgments")).await?;
    assert_eq!(r.status().as_u16(), 404);
    let r = cluster.get(&format!("/v1/campaigns/{id}/rounds/1/pairs?format=csv")).await?;
    assert_eq!(r.status().as_u16(), 400);
    let v: serde_json::Value = r.json().await?;
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("unknown format `csv`")), "{v}");
    pool.close().await;
    cluster.teardown().await
}
