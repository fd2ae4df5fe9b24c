//! The batched consumer loop. It takes what the prefetch window holds (up to `broker.batch`), hands
//! the batch to the service's handler, and settles every delivery by the handler's verdict: ack only
//! after the handler committed, requeue on a failed attempt (the queue's delivery limit bounds
//! that), dead-letter at once what can never succeed. Broker or database outages are waited out with
//! backoff; the loop never exits on them.

use crate::Runtime;
use futures::{FutureExt, StreamExt};
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use protocol::{Task, WorkQueue};
use queue::{Backoff, BrokerError, Death, Delivery};
use std::future::Future;
use std::sync::Arc;
use telemetry::TraceHeaders;

/// One delivery, decoded enough for a handler to work on it.
pub struct Incoming {
    pub kind: String,
    pub body: Vec<u8>,
    pub trace: TraceHeaders,
    pub death: Option<Death>,
    pub redelivered: bool,
}

impl Incoming {
    /// A span for this message's work, child of the trace context it carried.
    pub fn span(&self, name: &'static str) -> tracing::Span {
        let span =
            tracing::info_span!("task", otel.name = name, message.kind = %self.kind, redelivered = self.redelivered);
        telemetry::set_parent_from(&span, &self.trace);
        span
    }
}

/// How a delivery is settled.
#[derive(Debug)]
pub enum Disposition {
    /// Done (or nothing left to do): acknowledge.
    Ack,
    /// This attempt failed; record it and requeue. The queue dead-letters after its delivery limit.
    Retry { task: Option<Task>, error: String },
    /// Can never succeed (malformed, unknown type, permanent error): record it and dead-letter now.
    Reject { task: Option<Task>, error: String },
}

pub trait Handler: Send + Sync + 'static {
    /// Handles a batch and returns one disposition per message, in order. An `Err` means the batch
    /// could not be committed (database or broker trouble); the loop retries it.
    fn handle(&self, batch: &[Incoming]) -> impl Future<Output = anyhow::Result<Vec<Disposition>>> + Send;
}

fn incoming(d: &Delivery) -> Incoming {
    Incoming {
        kind: d.properties.kind().as_ref().map(|k| k.as_str().to_string()).unwrap_or_default(),
        body: d.data.clone(),
        trace: queue::trace_headers_of(&d.properties),
        death: queue::death_of(&d.properties),
        redelivered: d.redelivered,
    }
}

/// Consumes `queue` until the runtime stops, reconnecting whenever the broker goes away, with up to
/// `broker.concurrency` batches of up to `broker.batch` messages in flight.
pub async fn consume<H: Handler>(rt: Runtime, queue: WorkQueue, handler: Arc<H>) {
    let shape = Batching { size: rt.settings.broker.batch, concurrency: rt.settings.broker.concurrency };
    consume_named(rt.clone(), rt.topology.queue(queue), handler, shape).await
}

/// How a consumer cuts and runs batches.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most messages per batch (bounded by the prefetch window too).
    pub size: usize,
    /// Batches in flight at once.
    pub concurrency: usize,
}

/// The same for a queue given by its full name, with explicit batching (the orchestrator applies its
/// events one large batch at a time).
pub async fn consume_named<H: Handler>(rt: Runtime, queue_name: String, handler: Arc<H>, batching: Batching) {
    let mut backoff = Backoff::default();
    while !rt.stopping() {
        match session(&rt, &queue_name, &handler, batching, &mut backoff).await {
            Ok(()) => break,
            Err(e) => {
                rt.set_broker_up(false);
                tracing::warn!(error = %e, queue = %queue_name, "consumer lost its broker connection; reconnecting");
                backoff.wait().await;
            }
        }
    }
}

async fn session<H: Handler>(
    rt: &Runtime,
    queue_name: &str,
    handler: &Arc<H>,
    batching: Batching,
    backoff: &mut Backoff,
) -> anyhow::Result<()> {
    let concurrency = batching.concurrency.max(1);
    let conn = queue::connect(rt.broker_url(), &rt.owner).await?;
    let channel = queue::channel(&conn).await?;
    let prefetch = rt.settings.broker.prefetch;
    queue::call("setting the prefetch", channel.basic_qos(prefetch, BasicQosOptions::default())).await?;
    let consume = channel.basic_consume(
        queue_name.into(),
        rt.owner.as_str().into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    );
    let mut consumer = queue::call("starting a consumer", consume).await?;
    rt.set_broker_up(true);
    backoff.reset();
    let max_batch = batching.size.max(1);
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut in_flight = tokio::task::JoinSet::new();
    let result = loop {
        // Surface a batch whose acknowledgements failed: the channel is gone, reconnect.
        if let Some(Ok(Err(e))) = in_flight.try_join_next() {
            break Err(e);
        }
        // Waiting for a free slot watches the connection too: batches stuck on a dead channel end
        // by their deadlines, but the loop should start reconnecting at once.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            _ = connection_lost(&conn, &channel) => {
                break Err(anyhow::anyhow!("the broker connection closed while every batch slot was busy"))
            }
        };
        let Ok(slot) = slot else { break Ok(()) };
        let first = tokio::select! {
            next = consumer.next() => next,
            _ = rt.stopped() => break Ok(()),
            _ = connection_lost(&conn, &channel) => {
                break Err(anyhow::anyhow!("the broker connection closed under a waiting consumer"))
            }
        };
        let Some(first) = first else { break Err(anyhow::anyhow!("consumer stream ended")) };
        let mut deliveries = vec![first?];
        while deliveries.len() < max_batch {
            match consumer.next().now_or_never() {
                Some(Some(d)) => deliveries.push(d?),
                Some(None) => break,
                None => break,
            }
        }
        let (rt, handler, queue) = (rt.clone(), handler.clone(), queue_name.to_string());
        in_flight.spawn(async move {
            let _slot = slot;
            let batch: Vec<Incoming> = deliveries.iter().map(incoming).collect();
            let started = std::time::Instant::now();
            let dispositions = handle_with_retries(&rt, handler.as_ref(), &batch).await;
            let handled = started.elapsed();
            settle(&rt, &deliveries, dispositions, concurrency == 1).await?;
            tracing::debug!(
                queue,
                size = batch.len(),
                handle_us = handled.as_micros() as u64,
                settle_us = (started.elapsed() - handled).as_micros() as u64,
                "batch"
            );
            Ok::<(), anyhow::Error>(())
        });
    };
    // Let batches in flight finish (their results commit; their acks fail if the channel is gone,
    // and the broker redelivers those messages).
    while in_flight.join_next().await.is_some() {}
    let _ = conn.close(200, "closing".into()).await;
    result
}

/// Resolves once the connection or the channel is no longer usable. lapin does not always end a waiting
/// consumer's stream when its connection dies (seen in `chaos_broker`: the events consumer waited on a
/// dead connection for good while every other consumer of the process reconnected), so the session
/// also watches the status itself.
async fn connection_lost(conn: &lapin::Connection, channel: &lapin::Channel) {
    while conn.status().connected() && channel.status().connected() {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

/// Retries database/broker trouble with backoff (it is not the messages' fault, so it must not use
/// up their deliveries); when a batch fails for another reason, handles its messages one by one so a
/// single bad message cannot sink its neighbours.
async fn handle_with_retries<H: Handler>(rt: &Runtime, handler: &H, batch: &[Incoming]) -> Vec<Disposition> {
    let mut backoff = Backoff::default();
    loop {
        match handler.handle(batch).await {
            Ok(d) if d.len() == batch.len() => return d,
            Ok(d) => {
                tracing::error!(got = d.len(), want = batch.len(), "handler returned the wrong number of dispositions");
                return batch.iter().map(|_| Disposition::Retry { task: None, error: "handler bug".into() }).collect();
            }
            Err(e) if is_transient(&e) => {
                tracing::warn!(error = %e, "batch failed on infrastructure; retrying");
                if rt.stopping() {
                    return batch.iter().map(|_| Disposition::Retry { task: None, error: e.to_string() }).collect();
                }
                backoff.wait().await;
            }
            Err(e) if batch.len() > 1 => {
                tracing::warn!(error = %e, "batch failed; isolating its messages");
                let mut out = Vec::with_capacity(batch.len());
                for one in batch {
                    let d = Box::pin(handle_with_retries(rt, handler, std::slice::from_ref(one))).await;
                    out.extend(d);
                }
                return out;
            }
            Err(e) => return vec![Disposition::Retry { task: None, error: format!("{e:#}") }],
        }
    }
}

fn is_transient(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<sqlx::Error>().is_some_and(store::is_retryable)
            || c.downcast_ref::<lapin::Error>().is_some()
            || c.downcast_ref::<queue::PublishError>().is_some()
            || c.downcast_ref::<BrokerError>().is_some()
    })
}

/// Acknowledges, requeues or dead-letters each delivery. `multiple` acks may only be used when this
/// batch is the only one in flight (a multiple ack covers every earlier delivery on the channel).
async fn settle(
    rt: &Runtime,
    deliveries: &[Delivery],
    dispositions: Vec<Disposition>,
    alone: bool,
) -> anyhow::Result<()> {
    let all_ack = dispositions.iter().all(|d| matches!(d, Disposition::Ack));
    // Each settlement has the broker deadline: an ack on a dead channel may never resolve, and an
    // unsettled batch would hold its slot for good (the broker redelivers what was not acked).
    if all_ack && alone {
        if let Some(last) = deliveries.last() {
            queue::call("an ack", last.acker.ack(BasicAckOptions { multiple: true })).await?;
        }
        return Ok(());
    }
    for (delivery, disposition) in deliveries.iter().zip(dispositions) {
        match disposition {
            Disposition::Ack => {
                queue::call("an ack", delivery.acker.ack(BasicAckOptions::default())).await?;
            }
            Disposition::Retry { task, error } => {
                record(rt, task.as_ref(), &error).await;
                queue::call("a requeue", delivery.acker.nack(BasicNackOptions { requeue: true, multiple: false }))
                    .await?;
            }
            Disposition::Reject { task, error } => {
                record(rt, task.as_ref(), &error).await;
                queue::call("a rejection", delivery.acker.reject(BasicRejectOptions { requeue: false })).await?;
            }
        }
    }
    Ok(())
}

/// Records a failed attempt with its error, so the dead-letter handler can say why a task died.
async fn record(rt: &Runtime, task: Option<&Task>, error: &str) {
    tracing::warn!(error, task = task.map(Task::key), "task attempt failed");
    let Some(task) = task else { return };
    let key = task.key();
    let failed = store::failures::FailedTask::of(task, &key);
    let result = async {
        let mut conn = rt.pool.acquire().await?;
        store::failures::record_attempt(&mut conn, &failed, error).await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not record a failed attempt");
    }
}

/// A batch decoded as messages of type `M`: each decoded message with its index and task span, and
/// one disposition slot per delivery (filled with a rejection for those that did not decode).
pub struct Decoded<M> {
    pub messages: Vec<(usize, M, tracing::Span)>,
    pub dispositions: Vec<Option<Disposition>>,
}

impl<M: protocol::MessageType> Decoded<M> {
    pub fn of(batch: &[Incoming]) -> Self {
        let mut out = Self { messages: Vec::new(), dispositions: Vec::with_capacity(batch.len()) };
        for (n, msg) in batch.iter().enumerate() {
            match protocol::message::decode::<M>(&msg.kind, &msg.body) {
                Ok(m) => {
                    out.messages.push((n, m, msg.span(M::TYPE)));
                    out.dispositions.push(None);
                }
                Err(e) => out.dispositions.push(Some(Disposition::Reject { task: None, error: e.to_string() })),
            }
        }
        out
    }
}

/// The dispositions of a handled batch; a slot left empty means the message needed nothing: ack.
pub fn settled(dispositions: Vec<Option<Disposition>>) -> Vec<Disposition> {
    dispositions.into_iter().map(|d| d.unwrap_or(Disposition::Ack)).collect()
}
