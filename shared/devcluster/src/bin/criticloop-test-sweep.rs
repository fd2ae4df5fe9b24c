//! `criticloop-test-sweep`: removes databases and broker objects that failed test runs left behind.

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let options = criticloop_devcluster::ClusterOptions::new("sweep");
    let swept = criticloop_devcluster::sweep(&options.postgres_url, &options.broker_url).await?;
    println!(
        "swept {} databases, {} queues and {} exchanges left by earlier test runs",
        swept.databases.len(),
        swept.queues,
        swept.exchanges
    );
    Ok(())
}
