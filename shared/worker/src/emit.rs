use protocol::{Envelope, Event, EventKind, Route, WorkQueue};
use uuid::Uuid;

/// Writes an event for the orchestrator into the outbox, carrying `span`'s trace context.
pub async fn emit(
    conn: &mut sqlx::PgConnection,
    round_id: Uuid,
    kind: EventKind,
    span: &tracing::Span,
) -> sqlx::Result<()> {
    let envelope = Envelope::new(Route::to(WorkQueue::Events), &Event { round_id, kind });
    let traceparent = telemetry::inject_span(span).remove("traceparent");
    store::outbox::enqueue(conn, &[envelope], traceparent.as_deref()).await
}

/// Runs blocking model work off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await?)
}
