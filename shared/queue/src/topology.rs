use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};
use protocol::WorkQueue;

/// Names and arguments of everything criticloop declares, under one prefix.
#[derive(Debug, Clone)]
pub struct Topology {
    pub prefix: String,
    pub delivery_limit: u32,
}

impl Topology {
    pub fn new(prefix: impl Into<String>, delivery_limit: u32) -> Self {
        Self { prefix: prefix.into(), delivery_limit }
    }

    /// The direct exchange every task and event is published to; the routing key is the queue's name.
    pub fn exchange(&self) -> String {
        format!("{}.tasks", self.prefix)
    }
    pub fn dead_letter_exchange(&self) -> String {
        format!("{}.dlx", self.prefix)
    }
    pub fn queue(&self, queue: WorkQueue) -> String {
        format!("{}.{}", self.prefix, queue.name())
    }
    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    /// Declares exchanges, quorum queues and bindings. Idempotent; every service calls it at start-up.
    pub async fn declare(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let durable = ExchangeDeclareOptions { durable: true, ..Default::default() };
        channel.exchange_declare(self.exchange().into(), ExchangeKind::Direct, durable, FieldTable::default()).await?;
        channel
            .exchange_declare(self.dead_letter_exchange().into(), ExchangeKind::Fanout, durable, FieldTable::default())
            .await?;
        let queue_opts = QueueDeclareOptions { durable: true, ..Default::default() };
        for queue in WorkQueue::ALL {
            let name = self.queue(queue);
            channel.queue_declare(name.clone().into(), queue_opts, self.work_queue_args()).await?;
            channel
                .queue_bind(
                    name.into(),
                    self.exchange().into(),
                    queue.name().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        let mut dead_args = FieldTable::default();
        dead_args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
        channel.queue_declare(self.dead_queue().into(), queue_opts, dead_args).await?;
        channel
            .queue_bind(
                self.dead_queue().into(),
                self.dead_letter_exchange().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }

    /// Deletes every queue and exchange `declare` creates (their messages with them): the end of a
    /// test cluster or a benchmark. Objects that are already gone are not an error.
    pub async fn delete(&self, channel: &Channel) -> Result<(), lapin::Error> {
        let queues = WorkQueue::ALL.into_iter().map(|q| self.queue(q)).chain([self.dead_queue()]);
        for name in queues {
            channel.queue_delete(name.into(), Default::default()).await?;
        }
        for name in [self.exchange(), self.dead_letter_exchange()] {
            channel.exchange_delete(name.into(), Default::default()).await?;
        }
        Ok(())
    }

    /// Quorum queue, explicit delivery limit (3.10 has none by default), at-least-once dead-lettering
    /// (which RabbitMQ requires to pair with `reject-publish` overflow).
    fn work_queue_args(&self) -> FieldTable {
        let mut args = FieldTable::default();
        args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
        // RabbitMQ dead-letters a message once it was returned *more than* x-delivery-limit times, i.e.
        // after limit + 1 deliveries; criticloop's setting counts deliveries (at least 2).
        let limit = self.delivery_limit.max(2) - 1;
        args.insert("x-delivery-limit".into(), AMQPValue::LongInt(limit as i32));
        args.insert("x-dead-letter-exchange".into(), AMQPValue::LongString(self.dead_letter_exchange().into()));
        args.insert("x-dead-letter-strategy".into(), AMQPValue::LongString("at-least-once".into()));
        args.insert("x-overflow".into(), AMQPValue::LongString("reject-publish".into()));
        args
    }
}
