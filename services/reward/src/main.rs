#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-reward")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_reward::run(settings).await;
    telemetry.shutdown();
    result
}
