use crate::Runtime;
use axum::{Json, Router, extract::State, http::StatusCode, routing::get};

/// Serves `/healthz` (the process is alive) and `/readyz` (database and broker reachable).
pub async fn serve_health(rt: Runtime) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&rt.settings.health.listen).await?;
    let app = Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
        .with_state(rt.clone());
    axum::serve(listener, app).with_graceful_shutdown(async move { rt.stopped().await }).await?;
    Ok(())
}

async fn ready(State(rt): State<Runtime>) -> (StatusCode, Json<serde_json::Value>) {
    let db = sqlx::query("select 1").execute(&rt.pool).await.is_ok();
    let broker = rt.broker_up();
    let status = if db && broker { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(serde_json::json!({"database": db, "broker": broker})))
}
