use crate::{Topology, headers::with_trace_headers};
use futures::future::try_join_all;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Connection};
use protocol::Envelope;
use telemetry::TraceHeaders;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("broker error: {0}")]
    Broker(#[from] lapin::Error),
    #[error("broker refused {0} message(s)")]
    Nacked(usize),
}

/// A channel in confirm mode.
pub struct Publisher {
    channel: Channel,
    topology: Topology,
}

impl Publisher {
    pub async fn open(conn: &Connection, topology: Topology) -> Result<Self, lapin::Error> {
        let channel = conn.create_channel().await?;
        channel.confirm_select(ConfirmSelectOptions::default()).await?;
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
        let confirm = channel
            .basic_publish(
                exchange.as_str().into(),
                m.route.queue.name().into(),
                BasicPublishOptions { mandatory: true, ..Default::default() },
                &body,
                props,
            )
            .await?;
        confirms.push(confirm);
    }
    let results = try_join_all(confirms).await?;
    let refused = results.into_iter().filter(|c| !matches!(c, lapin::Confirmation::Ack(None))).count();
    if refused > 0 {
        return Err(PublishError::Nacked(refused));
    }
    Ok(())
}
