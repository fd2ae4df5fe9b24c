#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-generation")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_generation::run(settings).await;
    telemetry.shutdown();
    result
}
