#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-evaluation")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_evaluation::run(settings).await;
    telemetry.shutdown();
    result
}
