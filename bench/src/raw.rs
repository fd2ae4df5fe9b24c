//! The broker ceiling of this machine: one connection publishes persistent messages with publisher
//! confirms to a fresh quorum queue in pipelined windows, while a consumer on a second connection
//! acks them (multiple acks per batch). No database anywhere.

use crate::report::{rate, secs, table};
use futures::StreamExt;
use futures::future::try_join_all;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};
use serde::Serialize;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
#[group(id = "raw")]
pub struct Args {
    /// Messages to publish and consume.
    #[arg(long, default_value_t = 40_000)]
    pub messages: usize,
    /// Messages published before awaiting their confirms.
    #[arg(long, default_value_t = 1000)]
    pub window: usize,
    /// The consumer's prefetch (basic.qos).
    #[arg(long, default_value_t = 256)]
    pub consumer_prefetch: u16,
    /// The consumer acks with `multiple` every this many messages (at most the prefetch).
    #[arg(long, default_value_t = 64)]
    pub ack_every: usize,
    #[arg(long, env = "CRITICLOOP_TEST_AMQP", default_value = "amqp://guest:guest@127.0.0.1:5672/%2f")]
    pub amqp_url: String,
}

#[derive(Debug, Serialize)]
pub struct RawReport {
    pub messages: usize,
    pub body_bytes: usize,
    pub window: usize,
    pub consumer_prefetch: u16,
    pub publish_s: f64,
    pub publish_per_s: f64,
    pub consume_s: f64,
    pub consume_per_s: f64,
    pub end_to_end_s: f64,
    pub end_to_end_per_s: f64,
}

impl RawReport {
    pub fn print(&self) {
        table(
            &format!(
                "raw broker ceiling: {} persistent {}-byte messages, quorum queue, confirms (window {}), prefetch {}",
                self.messages, self.body_bytes, self.window, self.consumer_prefetch
            ),
            &[
                ("publish (first publish -> last confirm)", secs(self.publish_s)),
                ("publish rate", rate(self.publish_per_s)),
                ("consume (first delivery -> last ack)", secs(self.consume_s)),
                ("consume rate", rate(self.consume_per_s)),
                ("end to end (first publish -> last ack)", secs(self.end_to_end_s)),
                ("end-to-end rate", rate(self.end_to_end_per_s)),
            ],
        );
    }
}

/// A judge-task-shaped JSON body of about 120 bytes.
fn body(seq: usize, round: &uuid::Uuid, prompt: &uuid::Uuid) -> Vec<u8> {
    serde_json::json!({"round_id": round, "prompt_id": prompt, "i": seq % 5, "j": (seq + 1) % 5, "seq": seq})
        .to_string()
        .into_bytes()
}

pub async fn run(args: &Args) -> anyhow::Result<RawReport> {
    anyhow::ensure!(args.messages > 0 && args.window > 0, "--messages and --window must be positive");
    let queue = format!("bench.raw.{}", uuid::Uuid::new_v4().simple());
    let publisher = Connection::connect(&args.amqp_url, ConnectionProperties::default()).await?;
    let channel = publisher.create_channel().await?;
    let mut queue_args = FieldTable::default();
    queue_args.insert("x-queue-type".into(), AMQPValue::LongString("quorum".into()));
    let durable = QueueDeclareOptions { durable: true, ..Default::default() };
    channel.queue_declare(queue.as_str().into(), durable, queue_args).await?;
    let result = measure(args, &publisher, &queue).await;
    let deleted = channel.queue_delete(queue.as_str().into(), QueueDeleteOptions::default()).await;
    let _ = publisher.close(200, "bench done".into()).await;
    let report = result?;
    deleted?;
    Ok(report)
}

async fn measure(args: &Args, publisher: &Connection, queue: &str) -> anyhow::Result<RawReport> {
    let n = args.messages;
    // The consumer first, on its own connection, so it is ready before the first publish.
    let consumer_conn = Connection::connect(&args.amqp_url, ConnectionProperties::default()).await?;
    let cch = consumer_conn.create_channel().await?;
    cch.basic_qos(args.consumer_prefetch, BasicQosOptions::default()).await?;
    let mut consumer =
        cch.basic_consume(queue.into(), "bench".into(), BasicConsumeOptions::default(), FieldTable::default()).await?;
    let ack_every = args.ack_every.clamp(1, usize::from(args.consumer_prefetch.max(1)));
    let consuming = tokio::spawn(async move {
        let mut first = None;
        let mut seen = 0usize;
        while seen < n {
            let Some(delivery) = consumer.next().await else { anyhow::bail!("consumer stream ended at {seen}") };
            let delivery = delivery?;
            first.get_or_insert_with(Instant::now);
            seen += 1;
            if seen.is_multiple_of(ack_every) || seen == n {
                delivery.acker.ack(BasicAckOptions { multiple: true }).await?;
            }
        }
        let last = Instant::now();
        let _ = consumer_conn.close(200, "bench done".into()).await;
        anyhow::Ok((first.unwrap_or(last), last))
    });

    let channel = publisher.create_channel().await?;
    channel.confirm_select(ConfirmSelectOptions::default()).await?;
    let (round, prompt) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let body_bytes = body(n - 1, &round, &prompt).len();
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        let end = (sent + args.window).min(n);
        let mut confirms = Vec::with_capacity(end - sent);
        for seq in sent..end {
            let props = BasicProperties::default().with_delivery_mode(2).with_content_type("application/json".into());
            let payload = body(seq, &round, &prompt);
            confirms.push(
                channel.basic_publish("".into(), queue.into(), BasicPublishOptions::default(), &payload, props).await?,
            );
        }
        let refused = try_join_all(confirms).await?.into_iter().filter(|c| !matches!(c, Confirmation::Ack(_))).count();
        anyhow::ensure!(refused == 0, "broker refused {refused} message(s)");
        sent = end;
    }
    let published = Instant::now();
    let (first_delivery, last_ack) = consuming.await??;
    let _ = channel.close(200, "bench done".into()).await;

    let publish_s = (published - start).as_secs_f64();
    let consume_s = (last_ack - first_delivery).as_secs_f64();
    let end_to_end_s = (last_ack - start).as_secs_f64();
    Ok(RawReport {
        messages: n,
        body_bytes,
        window: args.window,
        consumer_prefetch: args.consumer_prefetch,
        publish_s,
        publish_per_s: n as f64 / publish_s,
        consume_s,
        consume_per_s: n as f64 / consume_s,
        end_to_end_s,
        end_to_end_per_s: n as f64 / end_to_end_s,
    })
}
