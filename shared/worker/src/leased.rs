//! The consumer side of long tasks: decode the task, wait for a free slot, claim its lease and start
//! the work in the background (see `lease`). Training and evaluation differ only in their `LongTask`.

use crate::{Disposition, Handler, Incoming, LeaseGuard, LeaseOutcome, Runtime, run_leased};
use protocol::{Envelope, MessageType, Route, Task, WorkQueue};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::Instrument;

/// One kind of long task: its message type, queue, and the work (which must commit its result in a
/// transaction that also completes `lease`).
pub trait LongTask: Send + Sync + 'static {
    type Message: MessageType + Clone + Send + Sync + 'static;
    const QUEUE: WorkQueue;
    fn task(message: &Self::Message) -> Task;
    fn run(
        &self,
        rt: Runtime,
        message: Self::Message,
        lease: LeaseGuard,
    ) -> impl Future<Output = Result<(), backend::BackendError>> + Send + use<Self>;
}

pub struct LeasedHandler<L: LongTask> {
    rt: Runtime,
    long: Arc<L>,
    slots: Arc<Semaphore>,
}

impl<L: LongTask> LeasedHandler<L> {
    /// `slots`: how many of these tasks this worker runs at once.
    pub fn new(rt: Runtime, long: L, slots: usize) -> Self {
        Self { rt, long: Arc::new(long), slots: Arc::new(Semaphore::new(slots.max(1))) }
    }
}

impl<L: LongTask> Handler for LeasedHandler<L> {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out = Vec::with_capacity(batch.len());
        for msg in batch {
            let message: L::Message = match protocol::message::decode(&msg.kind, &msg.body) {
                Ok(m) => m,
                Err(e) => {
                    out.push(Disposition::Reject { task: None, error: e.to_string() });
                    continue;
                }
            };
            let span = msg.span(L::Message::TYPE);
            let permit = self.slots.clone().acquire_owned().await?;
            let envelope = serde_json::to_value(Envelope::new(Route::to(L::QUEUE), &message))?;
            let traceparent = telemetry::inject_span(&span).remove("traceparent");
            let (rt, long, work_span) = (self.rt.clone(), self.long.clone(), span.clone());
            let task = L::task(&message);
            let work = move |lease: LeaseGuard| long.run(rt, message, lease).instrument(work_span);
            let outcome = run_leased(&self.rt, task, envelope, traceparent, permit, work).instrument(span).await?;
            if outcome != LeaseOutcome::Started {
                tracing::info!(?outcome, "long task not started here");
            }
            out.push(Disposition::Ack);
        }
        Ok(out)
    }
}

/// A transient backend error from anything displayable (database trouble during long work).
pub fn transient(e: impl std::fmt::Display) -> backend::BackendError {
    backend::BackendError::Transient(e.to_string())
}
