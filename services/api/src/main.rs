#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut telemetry = telemetry::init("criticloop-api")?;
    let settings = criticloop_api::ApiSettings::load()?;
    let result = async {
        let app = criticloop_api::Application::build(settings).await?;
        tracing::info!(port = app.port(), "API listening");
        app.run_until_stopped().await
    }
    .await;
    telemetry.shutdown();
    result
}
