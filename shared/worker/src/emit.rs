use protocol::{Envelope, Event, EventKind, Route, WorkQueue};
use store::outbox::Outgoing;
use uuid::Uuid;

/// Collects a batch's events for the orchestrator and writes them to the outbox in one statement,
/// each carrying its task span's trace context.
#[derive(Default)]
pub struct Emitter {
    items: Vec<Outgoing>,
}

impl Emitter {
    pub fn push(&mut self, round_id: Uuid, kind: EventKind, span: &tracing::Span) {
        let envelope = Envelope::new(Route::to(WorkQueue::Events), &Event { round_id, kind });
        let traceparent = telemetry::inject_span(span).remove("traceparent");
        self.items.push(Outgoing { messages: vec![envelope], traceparent });
    }

    pub async fn write(self, conn: &mut sqlx::PgConnection) -> sqlx::Result<()> {
        store::outbox::enqueue_all(conn, &self.items).await
    }
}

/// Writes one event (see [`Emitter`] for batches).
pub async fn emit(
    conn: &mut sqlx::PgConnection,
    round_id: Uuid,
    kind: EventKind,
    span: &tracing::Span,
) -> sqlx::Result<()> {
    let mut e = Emitter::default();
    e.push(round_id, kind, span);
    e.write(conn).await
}

/// Runs blocking model work off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
    Ok(tokio::task::spawn_blocking(f).await?)
}
