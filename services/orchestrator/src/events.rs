use protocol::{Event, MessageType};
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, Runtime};

pub struct EventHandler {
    rt: Runtime,
}

impl EventHandler {
    pub fn new(rt: Runtime) -> Self {
        Self { rt }
    }
}

impl Handler for EventHandler {
    /// Applies a batch of events in one transaction.
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out = Vec::with_capacity(batch.len());
        let mut events = Vec::with_capacity(batch.len());
        for msg in batch {
            match protocol::message::decode::<Event>(&msg.kind, &msg.body) {
                Ok(e) => {
                    // One span per event, in the trace of the task that caused it.
                    drop(msg.span(Event::TYPE).entered());
                    events.push(e);
                    out.push(Disposition::Ack);
                }
                Err(e) => out.push(Disposition::Reject { task: None, error: e.to_string() }),
            }
        }
        let mut tx = self.rt.pool.begin().await?;
        crate::saga::apply_batch(&mut tx, &events, &self.rt.settings.saga)
            .instrument(tracing::info_span!("saga.apply", events = events.len()))
            .await?;
        store::outbox::notify(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }
}
