//! Every service's RabbitMQ connections cut twice mid-round (through a proxy the test controls, with
//! a 1.5 s outage each time); the round completes with the same counts.

use criticloop_tests::chaos::{Link, cut_mid_round};

#[tokio::test(flavor = "multi_thread")]
async fn chaos_broker_connections_cut_mid_round() -> anyhow::Result<()> {
    cut_mid_round("chaos_broker", Link::Broker).await
}
