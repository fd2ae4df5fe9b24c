//! Republishes long tasks whose lease expired before they finished (their worker died).

use protocol::Envelope;
use std::time::Duration;
use worker::Runtime;

pub async fn reap(rt: Runtime) {
    let every = Duration::from_millis((rt.settings.lease.ttl_ms / 4).clamp(50, 5_000));
    while !rt.stopping() {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = rt.stopped() => return,
        }
        if let Err(e) = reap_once(&rt).await {
            tracing::warn!(error = %e, "lease reaper failed; retrying");
        }
    }
}

async fn reap_once(rt: &Runtime) -> anyhow::Result<()> {
    let mut tx = rt.pool.begin().await?;
    let expired = store::leases::take_expired(&mut tx, rt.settings.lease.ttl_ms as i64).await?;
    for (key, message, traceparent) in &expired {
        let envelope: Envelope = serde_json::from_value(message.clone())?;
        tracing::info!(task = %key, "lease expired; republishing the task");
        store::outbox::enqueue(&mut tx, std::slice::from_ref(&envelope), traceparent.as_deref()).await?;
    }
    if !expired.is_empty() {
        store::outbox::notify(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
