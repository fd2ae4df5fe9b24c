//! One trace per round: every task is a span in the round's trace, across services, linked through
//! `traceparent` in AMQP headers; spans reach an OTLP receiver.

use criticloop_tests::{Cluster, ClusterOptions, campaign, otlp};
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn trace_round_is_one_trace_across_services() -> anyhow::Result<()> {
    let (receiver, endpoint) = otlp::Receiver::start().await?;
    let options = ClusterOptions::new("trace")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
        .env("OTEL_BSP_SCHEDULE_DELAY", 100);
    let mut cluster = Cluster::start(options).await?;
    let dataset = campaign::dataset(&cluster, 10, |i| format!("q{i}")).await?;
    let id = campaign::create(&cluster, &campaign::spec(&dataset, 1, 3, serde_json::json!({}))).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = view["rounds"][0]["id"].as_str().expect("round").to_string();
    let pool = cluster.pool().await?;
    let traceparent: String =
        sqlx::query_scalar("select traceparent from rounds where id = $1::uuid").bind(&round).fetch_one(&pool).await?;
    let trace_id = traceparent.split('-').nth(1).expect("trace id").to_string();
    cluster.stop_services().await; // flushes every exporter

    let spans = receiver.spans();
    let judge: Vec<_> = spans.iter().filter(|s| s.name == "judge.v1").collect();
    // one span per judge message; by default a message carries all 6 ordered pairs of a prompt
    assert_eq!(judge.len(), 10, "one span per judge message");
    assert!(judge.iter().all(|s| s.trace_id == trace_id), "every judge span is in the round's trace");
    let services: BTreeSet<&str> =
        spans.iter().filter(|s| s.trace_id == trace_id).map(|s| s.service.as_str()).collect();
    for s in ["orchestrator", "generation", "judging", "reward", "training", "evaluation"] {
        assert!(
            services.contains(format!("criticloop-{s}").as_str()),
            "{s} missing from the round's trace: {services:?}"
        );
    }
    for name in ["generate.v1", "aggregate.v1", "train.v1", "evaluate.v1", "event.v1", "round"] {
        assert!(
            spans.iter().any(|s| s.name == name && s.trace_id == trace_id),
            "no `{name}` span in the round's trace"
        );
    }
    pool.close().await;
    cluster.teardown().await
}
