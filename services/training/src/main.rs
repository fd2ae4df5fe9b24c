#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-training")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_training::run(settings).await;
    telemetry.shutdown();
    result
}
