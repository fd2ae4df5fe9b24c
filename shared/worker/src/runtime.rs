use crate::Settings;
use queue::Topology;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::PgPool;
use tokio::sync::watch;

/// What a running service holds: its pool, its broker topology, its identity, readiness and shutdown.
#[derive(Clone)]
pub struct Runtime {
    pub settings: Settings,
    pub pool: PgPool,
    pub topology: Topology,
    /// Unique per process start: lease owner and connection name.
    pub owner: String,
    pub service: &'static str,
    broker_up: Arc<AtomicBool>,
    shutdown: watch::Receiver<bool>,
    trigger: Arc<watch::Sender<bool>>,
}

impl Runtime {
    /// Connects to Postgres (retrying), applies migrations, and declares the broker topology (retrying).
    pub async fn start(service: &'static str, settings: Settings) -> anyhow::Result<Self> {
        let pool = store::connect_with_backoff(settings.database.url.expose(), settings.database.max_connections).await;
        store::migrate(&pool).await?;
        let topology = Topology::new(settings.broker.prefix.clone(), settings.broker.delivery_limit);
        let owner = format!("{service}-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        let mut backoff = queue::Backoff::default();
        loop {
            let conn = queue::connect_with_backoff(settings.broker.url.expose(), &owner).await;
            let declared = async {
                let ch = queue::channel(&conn).await?;
                queue::call("declaring the topology", topology.declare(&ch)).await?;
                let _ = conn.close(200, "topology declared".into()).await;
                Ok::<_, queue::BrokerError>(())
            }
            .await;
            match declared {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "declaring the broker topology failed; retrying");
                    backoff.wait().await;
                }
            }
        }
        let (tx, rx) = watch::channel(false);
        Ok(Self {
            settings,
            pool,
            topology,
            owner,
            service,
            broker_up: Arc::new(AtomicBool::new(false)),
            shutdown: rx,
            trigger: Arc::new(tx),
        })
    }

    pub fn broker_url(&self) -> &str {
        self.settings.broker.url.expose()
    }

    pub fn set_broker_up(&self, up: bool) {
        self.broker_up.store(up, Ordering::Relaxed);
    }

    pub fn broker_up(&self) -> bool {
        self.broker_up.load(Ordering::Relaxed)
    }

    pub fn stop(&self) {
        let _ = self.trigger.send(true);
    }

    pub fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves once `stop` was called.
    pub async fn stopped(&self) {
        let mut rx = self.shutdown.clone();
        while !*rx.borrow() {
            if rx.changed().await.is_err() {
                return;
            }
        }
    }
}

/// SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// Serves health probes and the outbox relay beside the given loops until SIGTERM, then stops them.
pub async fn run_until_stopped(rt: Runtime, mut tasks: Vec<tokio::task::JoinHandle<()>>) -> anyhow::Result<()> {
    tasks.push(tokio::spawn(crate::relay(rt.clone())));
    let health_rt = rt.clone();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = crate::serve_health(health_rt).await {
            tracing::error!(error = %e, "health probe server failed");
        }
    }));
    shutdown_signal().await;
    tracing::info!(service = rt.service, "shutting down");
    rt.stop();
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}
