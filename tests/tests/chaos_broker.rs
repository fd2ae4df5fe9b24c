//! Every service's RabbitMQ connections cut twice mid-round (through a proxy the test controls, with
//! a 1.5 s outage each time); the round completes with the same counts.

use criticloop_tests::{Cluster, ClusterOptions, Proxy, chaos};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn chaos_broker_connections_cut_mid_round() -> anyhow::Result<()> {
    let proxy = Proxy::start("127.0.0.1:5672").await?;
    let mut options = chaos::slow(ClusterOptions::new("chaos_broker"));
    options.broker_port = Some(proxy.port);
    let cluster = Cluster::start(options).await?;
    let pool = cluster.pool().await?;
    let id = chaos::start_round(&cluster).await?;
    let mut in_flight = 0;
    for wait in [800, 2000] {
        tokio::time::sleep(Duration::from_millis(wait)).await;
        let (state, judgments) = chaos::snapshot(&pool).await?;
        eprintln!("cutting broker connections: round {state}, judgments {judgments}");
        if matches!(state.as_str(), "sampling" | "judging" | "aggregating") {
            in_flight += 1;
        }
        proxy.cut(Duration::from_millis(1500)).await;
    }
    assert!(in_flight >= 1, "no cut hit the round while it was working");
    chaos::verify(&cluster, &id, Duration::from_secs(240)).await?;
    pool.close().await;
    cluster.teardown().await
}
