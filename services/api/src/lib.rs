//! The HTTP API: campaigns, datasets, judge jobs, pair exports, probes and the OpenAPI document. Only this crate
//! knows HTTP. Writes that must reach the orchestrator go through the outbox, committed with the rows.

mod auth;
mod error;
mod extract;
mod jsonl;
mod openapi;
mod routes;
mod settings;

pub use settings::ApiSettings;

use axum::Router;
use std::net::SocketAddr;

#[derive(Clone)]
pub struct AppState {
    pub rt: worker::Runtime,
    pub tokens: std::sync::Arc<Vec<String>>,
    /// Largest streamed upload (judge-job JSONL, dataset files), `api.max_upload_bytes`.
    pub max_upload_bytes: usize,
    /// The content-addressed artifact store (`artifacts` section): imported images, downloads.
    pub artifacts: artifacts::ArtifactStore,
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    rt: worker::Runtime,
}

impl Application {
    /// Connects, migrates, declares the broker topology and binds the listener (port 0 picks one).
    pub async fn build(settings: ApiSettings) -> anyhow::Result<Self> {
        let tokens: Vec<String> =
            settings.api.tokens.expose().split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
        anyhow::ensure!(!tokens.is_empty(), "CRITICLOOP_API__TOKENS must list at least one bearer token");
        let listener = tokio::net::TcpListener::bind(&settings.api.listen).await?;
        let max_body = settings.api.max_body_bytes;
        let store_config = settings.common.artifact_store();
        let artifacts = artifacts::ArtifactStore::open(&store_config)
            .map_err(|e| anyhow::anyhow!("CRITICLOOP_ARTIFACTS__*: {e}"))?;
        tracing::info!(store = artifacts.description(), "artifact store");
        let rt = worker::Runtime::start("api", settings.common).await?;
        let state = AppState {
            rt: rt.clone(),
            tokens: std::sync::Arc::new(tokens),
            max_upload_bytes: settings.api.max_upload_bytes,
            artifacts,
        };
        let router = routes::router(state, max_body);
        Ok(Self { listener, router, rt })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a: SocketAddr| a.port()).unwrap_or(0)
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let rt = self.rt.clone();
        rt.set_broker_up(true);
        let relay = tokio::spawn(worker::relay(rt.clone()));
        let stop = rt.clone();
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(async move {
                worker::shutdown_signal().await;
                stop.stop();
            })
            .await?;
        rt.stop();
        let _ = relay.await;
        Ok(())
    }
}
