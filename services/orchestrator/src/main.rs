#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-orchestrator")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_orchestrator::run(settings).await;
    telemetry.shutdown();
    result
}
