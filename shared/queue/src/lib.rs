//! The RabbitMQ layer on lapin: topology (quorum queues, dead letters, delivery limits), connections
//! with retry and backoff, publishing with confirms, and bounded-prefetch consumers. It knows
//! nothing of Postgres; the outbox relay and the consumer loops live in `worker`.

mod connection;
mod deadline;
mod headers;
mod publish;
mod topology;

pub use connection::{Backoff, channel, connect, connect_with_backoff};
pub use deadline::{BROKER_DEADLINE, BrokerError, BrokerTimeout, call};
pub use headers::{Death, death_of, trace_headers_of, with_trace_headers};
pub use lapin::{Channel, Connection, message::Delivery, options};
pub use publish::{PublishError, Publisher, publish_all};
pub use topology::Topology;
