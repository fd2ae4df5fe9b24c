//! The outbox relay: publishes committed outbox rows to RabbitMQ with confirms, then deletes them.
//! Every service runs one; `FOR UPDATE SKIP LOCKED` lets them share the work. A crash between
//! publish and delete republishes the row, which the consumers' idempotent writes absorb.

use crate::Runtime;
use queue::{Backoff, Publisher};
use sqlx::postgres::PgListener;
use std::time::Duration;

const ROWS_PER_TURN: i64 = 64;
const MIN_IDLE: Duration = Duration::from_millis(1);
const MAX_IDLE: Duration = Duration::from_millis(50);

pub async fn relay(rt: Runtime) {
    let mut backoff = Backoff::default();
    while !rt.stopping() {
        if let Err(e) = session(&rt, &mut backoff).await {
            tracing::warn!(error = %e, "outbox relay interrupted; reconnecting");
            backoff.wait().await;
        }
    }
}

async fn session(rt: &Runtime, backoff: &mut Backoff) -> anyhow::Result<()> {
    let conn = queue::connect(rt.broker_url(), &format!("{}-relay", rt.owner)).await?;
    let publisher = Publisher::open(&conn, rt.topology.clone()).await?;
    let mut listener = PgListener::connect_with(&rt.pool).await?;
    listener.listen(store::outbox::CHANNEL).await?;
    backoff.reset();
    // Polls fast while there is traffic and slows down when idle; a NOTIFY wakes it at once.
    let mut idle = MIN_IDLE;
    loop {
        if rt.stopping() {
            let _ = conn.close(200, "shutting down".into()).await;
            return Ok(());
        }
        if relay_once(rt, &publisher).await? > 0 {
            idle = MIN_IDLE;
            continue;
        }
        tokio::select! {
            n = listener.recv() => { n?; idle = MIN_IDLE; }
            _ = tokio::time::sleep(idle) => { idle = (idle * 2).min(MAX_IDLE); }
            _ = rt.stopped() => {}
        }
    }
}

/// Publishes one batch of outbox rows; returns how many rows it relayed.
async fn relay_once(rt: &Runtime, publisher: &Publisher) -> anyhow::Result<usize> {
    let mut tx = rt.pool.begin().await?;
    let rows = store::outbox::claim(&mut tx, ROWS_PER_TURN).await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let traces: Vec<telemetry::TraceHeaders> = rows
        .iter()
        .map(|row| row.traceparent.iter().map(|tp| ("traceparent".to_string(), tp.clone())).collect())
        .collect();
    let items: Vec<(&protocol::Envelope, &telemetry::TraceHeaders)> =
        rows.iter().zip(&traces).flat_map(|(row, trace)| row.messages.iter().map(move |m| (m, trace))).collect();
    publisher.publish_traced(&items).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    store::outbox::delete(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(rows.len())
}
