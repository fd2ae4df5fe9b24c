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
        let mut tx = self.rt.pool.begin().await?;
        for msg in batch {
            let event: Event = match protocol::message::decode(&msg.kind, &msg.body) {
                Ok(e) => e,
                Err(e) => {
                    out.push(Disposition::Reject { task: None, error: e.to_string() });
                    continue;
                }
            };
            crate::saga::apply(&mut tx, &event).instrument(msg.span(Event::TYPE)).await?;
            out.push(Disposition::Ack);
        }
        tx.commit().await?;
        Ok(out)
    }
}
