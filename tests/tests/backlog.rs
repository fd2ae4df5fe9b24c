//! Judge jobs ("backlogs") end to end: the real API, RabbitMQ, orchestrator dispatcher, judging and
//! evaluation workers (fake critic) and Postgres.

use backend::fake::FakeBackend;
use criticloop_tests::{Cluster, ClusterOptions, Service, backlog, campaign};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The fake critic's preference between two responses: the one of higher fake quality.
fn fake_preference(a: &str, b: &str) -> &'static str {
    match FakeBackend::quality(a).cmp(&FakeBackend::quality(b)) {
        std::cmp::Ordering::Greater => "first",
        std::cmp::Ordering::Less => "second",
        std::cmp::Ordering::Equal => "tie",
    }
}

/// A pairwise item whose label agrees with the fake critic unless `disagree`.
fn pairwise_item(i: usize, question: &str, disagree: bool) -> Value {
    let (a, b) = (format!("answer {i} alpha"), format!("answer {i} beta"));
    let judged = fake_preference(&a, &b);
    let label = match (judged, disagree) {
        (l, false) => l,
        ("first", true) => "second",
        (_, true) => "first",
    };
    json!({
        "id": format!("item-{i}"), "question": question, "responses": [a, b], "label": label,
        "models": [format!("model-{}", i % 4), format!("model-{}", (i + 1) % 4)],
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_2000_pairwise_items_come_back_complete_with_metrics() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("backlog_e2e")).await?;
    let n = 2000;
    let permanent = [17, 1001, 1999]; // the critic call fails for good: the item alone fails
    let transient = 500; // fails every delivery: its chunk dead-letters, and only this item fails
    let lines: Vec<Value> = (0..n)
        .map(|i| {
            let question = if permanent.contains(&i) {
                format!("q{i} [[fake-fail:judge-permanent]]")
            } else if i == transient {
                format!("q{i} [[fake-fail:judge]]")
            } else {
                format!("q{i}")
            };
            pairwise_item(i, &question, i % 5 == 0)
        })
        .collect();
    let started = Instant::now();
    let id = backlog::create(&cluster, "critic=fake%3A%2F%2Fcritic&priority=4&name=e2e", &lines).await?;
    let job = backlog::wait_state(&cluster, &id, "completed", Duration::from_secs(180)).await?;
    let secs = started.elapsed().as_secs_f64();
    println!("backlog: {n} items judged and scored in {secs:.2} s ({:.0} items/s)", n as f64 / secs);
    assert_eq!(job["items_total"], n);
    assert_eq!(job["items_failed"], 4, "{job}");
    assert_eq!(job["items_judged"], n - 4, "{job}");

    // results: every item once, in order, with the fake critic's verdict or the failure
    let results = backlog::results(&cluster, &id).await?;
    assert_eq!(results.len(), n);
    let mut expected_hits = 0;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["position"], i);
        assert_eq!(r["id"], format!("item-{i}"));
        if permanent.contains(&i) || i == transient {
            assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{r}");
            assert!(r["verdict"].is_null(), "{r}");
            continue;
        }
        let item = &lines[i];
        let want = fake_preference(
            item["responses"][0].as_str().expect("present"),
            item["responses"][1].as_str().expect("present"),
        );
        assert_eq!(r["prediction"], want, "{r}");
        assert!(r["raw_output"].as_str().is_some_and(|t| !t.is_empty()));
        expected_hits += usize::from(r["label"] == want);
    }
    let dead_reason = results[transient]["error"].as_str().unwrap_or_default();
    assert!(dead_reason.contains("delivery limit"), "{dead_reason}");

    // metrics: computed by the evaluation worker over the labelled, judged items
    let r = cluster.get(&format!("/v1/judge-jobs/{id}/metrics")).await?;
    assert_eq!(r.status().as_u16(), 200);
    let m: Value = r.json().await?;
    let m = &m["metrics"];
    assert_eq!(m["items"], n);
    assert_eq!(m["failed"], 4);
    assert_eq!(m["pairwise"]["items"], n - 4);
    let accuracy = m["pairwise"]["accuracy_with_ties"].as_f64().expect("present");
    assert!((accuracy - expected_hits as f64 / (n - 4) as f64).abs() < 1e-12, "{accuracy} vs {expected_hits}");
    let elo = &m["pairwise"]["elo"]["judge"];
    assert!(elo.to_string().contains("model-3"), "{elo}");

    // bookkeeping: every chunk done, the dead chunk recorded with its reason
    let failures: Value = cluster.get(&format!("/v1/judge-jobs/{id}/failures")).await?.json().await?;
    let failures = failures["failures"].as_array().cloned().unwrap_or_default();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["dead"], true);
    let pool = cluster.pool().await?;
    let open: i64 =
        sqlx::query_scalar("select count(*) from judge_chunks where state <> 'done'").fetch_one(&pool).await?;
    assert_eq!(open, 0);
    pool.close().await;
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_high_priority_job_finishes_first_while_the_low_one_and_a_campaign_progress() -> anyhow::Result<()> {
    let options = ClusterOptions::new("backlog_priority")
        .env("CRITICLOOP_BACKEND__JUDGE_MS", 15)
        .env("CRITICLOOP_SAGA__BACKLOG_WINDOW", 4)
        .env("CRITICLOOP_SAGA__JUDGE_CHUNK_ITEMS", 10);
    let cluster = Cluster::start(options).await?;
    let low_items: Vec<Value> = (0..5000).map(|i| pairwise_item(i, &format!("low {i}"), false)).collect();
    let low = backlog::create(&cluster, "critic=c&priority=2&name=low", &low_items).await?;
    // let the low job get going, then submit the urgent one behind it
    let deadline = Instant::now() + Duration::from_secs(60);
    while backlog::settled(&backlog::get(&cluster, &low).await?) < 200 {
        anyhow::ensure!(Instant::now() < deadline, "the low job did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // a campaign started now is not stuck behind the backlog: its judge tasks use their own queue
    let dataset = campaign::dataset(&cluster, 20, |i| format!("campaign prompt {i}")).await?;
    let campaign_id = campaign::create(&cluster, &campaign::spec(&dataset, 1, 3, json!({}))).await?;
    let view = campaign::wait_finished(&cluster, &campaign_id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "completed", "{view}");
    let low_now = backlog::get(&cluster, &low).await?;
    assert_ne!(low_now["state"], "completed", "the campaign waited for the whole backlog: {low_now}");

    // pointwise items with score labels: the high job's metrics are correlations
    let high_items: Vec<Value> = (0..600)
        .map(|i| {
            let response = format!("high answer {i}");
            let score = (FakeBackend::quality(&response) * 10 + 5) as f64 + if i % 3 == 0 { 7.0 } else { 0.0 };
            json!({"question": format!("high {i}"), "responses": [response], "label": score.min(100.0),
                   "models": [format!("m{}", i % 3)]})
        })
        .collect();
    let before = backlog::get(&cluster, &low).await?;
    let high = backlog::create(&cluster, "critic=c&priority=5&name=high", &high_items).await?;
    let high_done = backlog::wait_state(&cluster, &high, "completed", Duration::from_secs(120)).await?;
    let after = backlog::get(&cluster, &low).await?;
    println!("low before: {before}\nlow after: {after}\nhigh: {high_done}");

    assert_ne!(after["state"], "completed", "the low job finished before the high one: {after}");
    assert!(backlog::settled(&after) > backlog::settled(&before), "the low job stopped progressing");
    // the dispatcher's record: chunks of each job released between the high job's first and last
    // release. Priority 5 vs 2 is an 8:1 share; the window's chunks already in flight add slack.
    let pool = cluster.pool().await?;
    let (low_released, high_released): (i64, i64) = sqlx::query_as(
        "with h as (select min(dispatched_at) as first, max(dispatched_at) as last from judge_chunks where job_id = $2)
         select count(*) filter (where c.job_id = $1), count(*) filter (where c.job_id = $2)
         from judge_chunks c, h where c.dispatched_at >= h.first and c.dispatched_at <= h.last",
    )
    .bind(uuid::Uuid::parse_str(&low)?)
    .bind(uuid::Uuid::parse_str(&high)?)
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    println!("while the high job was released: low {low_released} chunks, high {high_released}");
    assert_eq!(high_released, high_done["chunks_total"].as_i64().expect("present"));
    assert!(low_released >= 1, "no chunk of the low job was released while the high one ran");
    assert!(low_released * 4 <= high_released, "low got {low_released} chunks while high got {high_released}");

    let m: Value = cluster.get(&format!("/v1/judge-jobs/{high}/metrics")).await?.json().await?;
    let spearman = m["metrics"]["pointwise"]["spearman"].as_f64().unwrap_or(f64::NAN);
    assert!(spearman > 0.8, "{m}");
    assert!(m["metrics"]["pointwise"]["models"]["ranking_kendall"].is_object(), "{m}");

    // and the low job is not starved: it completes too
    backlog::wait_state(&cluster, &low, "completed", Duration::from_secs(180)).await?;
    cluster.teardown().await
}

async fn api_only(name: &str) -> anyhow::Result<Cluster> {
    let mut options = ClusterOptions::new(name);
    options.skip = devcluster::SERVICES.into_iter().filter(|s| *s != Service::Api).collect();
    Cluster::start(options).await
}

async fn stored(cluster: &Cluster) -> anyhow::Result<(i64, i64, i64)> {
    let pool = cluster.pool().await?;
    let counts = sqlx::query_as(
        "select (select count(*) from judge_jobs), (select count(*) from judge_items), (select count(*) from outbox)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(counts)
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_rejects_malformed_lines_by_number_and_stores_nothing() -> anyhow::Result<()> {
    let cluster = api_only("backlog_reject").await?;
    let good = r#"{"question":"q","responses":["a","b"],"label":"first"}"#;
    let body = [
        good,                                                                       // 1
        good,                                                                       // 2
        r#"{"question":"q","responses":["a","b"]"#,                                 // 3: truncated JSON
        good,                                                                       // 4
        r#"{"question":"q"}"#,                                                      // 5: no responses
        "",                                                                         // 6: blank, skipped
        r#"{"question":"q","responses":["a","b"],"template":"no/such"}"#,           // 7: unknown template
        r#"{"question":"q","responses":["a","b"],"label":4}"#,                      // 8: score label on a pair
        r#"{"question":"q","responses":["a"],"template":"llava-critic/pairwise"}"#, // 9: pairwise template, one response
        r#"{"question":"q","responses":["a"],"label":250}"#,                        // 10: outside the 0-100 scale
    ]
    .join("\n");
    let (status, answer) = backlog::submit(&cluster, "critic=c", body).await?;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"]["code"], "invalid_lines");
    let lines: Vec<i64> = answer["error"]["lines"]
        .as_array()
        .expect("present")
        .iter()
        .map(|l| l["line"].as_i64().expect("present"))
        .collect();
    assert_eq!(lines, [3, 5, 7, 8, 9, 10], "{answer}");
    let messages: Vec<&str> = answer["error"]["lines"]
        .as_array()
        .expect("present")
        .iter()
        .map(|l| l["message"].as_str().expect("present"))
        .collect();
    assert!(messages[1].contains("responses"), "{messages:?}");
    assert!(messages[2].contains("no/such"), "{messages:?}");
    assert!(messages[4].contains("pairwise"), "{messages:?}");
    assert!(answer["error"]["message"].as_str().expect("present").contains("nothing was stored"));
    assert_eq!(stored(&cluster).await?, (0, 0, 0));

    // bad query parameters and empty uploads, each named
    let (status, answer) = backlog::submit(&cluster, "priority=3", good.to_string()).await?;
    assert_eq!(status, 422, "{answer}");
    assert!(answer["error"]["message"].as_str().expect("present").contains("critic"), "{answer}");
    let (status, answer) = backlog::submit(&cluster, "critic=c&priority=12", good.to_string()).await?;
    assert_eq!((status, answer["error"]["fields"][0]["field"].as_str()), (422, Some("priority")), "{answer}");
    let (status, answer) = backlog::submit(&cluster, "critic=c", "\n\n".to_string()).await?;
    assert_eq!((status, answer["error"]["fields"][0]["field"].as_str()), (422, Some("body")), "{answer}");
    assert_eq!(stored(&cluster).await?, (0, 0, 0));

    // a good upload is stored whole; with no workers it stays running: metrics are not ready yet
    let body = format!("{good}\n{good}\n{good}");
    let (status, job) = backlog::submit(&cluster, "critic=c&priority=7", body).await?;
    assert_eq!(status, 201, "{job}");
    assert_eq!((job["items_total"].as_i64(), job["priority"].as_i64()), (Some(3), Some(7)));
    let id = job["id"].as_str().expect("present");
    let r = cluster.get(&format!("/v1/judge-jobs/{id}/metrics")).await?;
    assert_eq!(r.status().as_u16(), 409);
    let r = cluster.get("/v1/judge-jobs/00000000-0000-0000-0000-000000000000").await?;
    assert_eq!(r.status().as_u16(), 404);
    let r = cluster.post(&format!("/v1/judge-jobs/{id}/cancel"), &Value::Null).await?;
    assert_eq!(r.status().as_u16(), 202);
    let r = cluster.post(&format!("/v1/judge-jobs/{id}/cancel"), &Value::Null).await?;
    assert_eq!(r.status().as_u16(), 409);
    let counts: BTreeMap<&str, i64> = {
        let (jobs, items, _) = stored(&cluster).await?;
        [("jobs", jobs), ("items", items)].into()
    };
    assert_eq!(counts, [("jobs", 1), ("items", 3)].into());
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn backlog_survives_killed_workers_and_dispatcher_with_every_item_judged_once() -> anyhow::Result<()> {
    let options = ClusterOptions::new("backlog_chaos")
        .env("CRITICLOOP_BACKEND__JUDGE_MS", 5)
        .env("CRITICLOOP_SAGA__BACKLOG_WINDOW", 8)
        .env("CRITICLOOP_SAGA__JUDGE_CHUNK_ITEMS", 16);
    let mut cluster = Cluster::start(options).await?;
    let n = 3000;
    let items: Vec<Value> = (0..n).map(|i| pairwise_item(i, &format!("chaos {i}"), i % 7 == 0)).collect();
    let id = backlog::create(&cluster, "critic=c", &items).await?;
    for (service, at) in [(Service::Judging, 500), (Service::Orchestrator, 1500), (Service::Evaluation, 2500)] {
        let deadline = Instant::now() + Duration::from_secs(120);
        while backlog::settled(&backlog::get(&cluster, &id).await?) < at {
            anyhow::ensure!(Instant::now() < deadline, "no progress to {at} items");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cluster.kill(service).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.restart(service).await?;
    }
    let job = backlog::wait_state(&cluster, &id, "completed", Duration::from_secs(180)).await?;
    assert_eq!((job["items_judged"].as_i64(), job["items_failed"].as_i64()), (Some(n as i64), Some(0)), "{job}");
    let results = backlog::results(&cluster, &id).await?;
    assert_eq!(results.len(), n);
    assert!(results.iter().enumerate().all(|(i, r)| r["position"] == i && r["prediction"].is_string()));
    let m: Value = cluster.get(&format!("/v1/judge-jobs/{id}/metrics")).await?.json().await?;
    assert_eq!(m["metrics"]["pairwise"]["items"], n, "{m}");
    let pool = cluster.pool().await?;
    let (chunks, open): (i64, i64) =
        sqlx::query_as("select count(*), count(*) filter (where state <> 'done') from judge_chunks")
            .fetch_one(&pool)
            .await?;
    pool.close().await;
    assert_eq!((chunks, open), (n.div_ceil(16) as i64, 0));
    cluster.teardown().await
}
