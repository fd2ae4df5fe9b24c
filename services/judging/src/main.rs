#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-judging")?;
    let settings = worker::Settings::load()?;
    let result = criticloop_judging::run(settings).await;
    telemetry.shutdown();
    result
}
