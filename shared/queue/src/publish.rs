use crate::deadline::{BrokerError, call};
use crate::{Topology, headers::with_trace_headers};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection};
use protocol::Envelope;
use telemetry::TraceHeaders;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error("broker refused {0} message(s)")]
    Nacked(usize),
}

/// A channel in confirm mode.
pub struct Publisher {
    channel: Channel,
    topology: Topology,
}

impl Publisher {
    pub async fn open(conn: &Connection, topology: Topology) -> Result<Self, BrokerError> {
        let channel = crate::channel(conn).await?;
        call("selecting confirms", channel.confirm_select(ConfirmSelectOptions::default())).await?;
        Ok(Self { channel, topology })
    }

    /// Publishes every message, persistent, and returns once the broker has confirmed all of them.
    pub async fn publish(&self, messages: &[Envelope], trace: &TraceHeaders) -> Result<(), PublishError> {
        let items: Vec<(&Envelope, &TraceHeaders)> = messages.iter().map(|m| (m, trace)).collect();
        publish_all(&self.channel, &self.topology, &items).await
    }

    /// Publishes messages that each carry their own trace context, awaiting all confirms at the end.
    pub async fn publish_traced(&self, messages: &[(&Envelope, &TraceHeaders)]) -> Result<(), PublishError> {
        publish_all(&self.channel, &self.topology, messages).await
    }
}

pub async fn publish_all(
    channel: &Channel,
    topology: &Topology,
    messages: &[(&Envelope, &TraceHeaders)],
) -> Result<(), PublishError> {
    let exchange = topology.exchange();
    let mut confirms = Vec::new();
    for &(m, trace) in messages {
        let body = serde_json::to_vec(&m.body).unwrap_or_default();
        let props = with_trace_headers(
            BasicProperties::default()
                .with_delivery_mode(2)
                .with_content_type("application/json".into())
                .with_type(m.kind.as_str().into()),
            trace,
        );
        let publish = channel.basic_publish(
            exchange.as_str().into(),
            m.route.queue.name().into(),
            BasicPublishOptions { mandatory: true, ..Default::default() },
            &body,
            props,
        );
        confirms.push(call("a publish", publish).await?);
    }
    // The deadline bounds the wait between two confirms, not the whole batch, which may be large.
    let mut refused = 0;
    for confirm in confirms {
        let confirmation = call("a publisher confirm", confirm).await?;
        refused += usize::from(!matches!(confirmation, lapin::Confirmation::Ack(None)));
    }
    if refused > 0 {
        return Err(PublishError::Nacked(refused));
    }
    Ok(())
}
