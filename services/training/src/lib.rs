//! The training worker: trains the round's policy on its pairs and records the new checkpoint with
//! its parent. Training outlives RabbitMQ's consumer timeout, so the task runs under a lease
//! (see `worker::run_leased`): one training at a time per worker.

use backend::{Backends, TrainRequest};
use protocol::{EventKind, MessageType, Task, TrainTask, WorkQueue};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, LeaseOutcome, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = settings.backends()?;
    tracing::info!(backend = backends.name, "training worker starting");
    let rt = Runtime::start("training", settings).await?;
    let handler = Arc::new(TrainingHandler { rt: rt.clone(), backends, slots: Arc::new(Semaphore::new(1)) });
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Train, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct TrainingHandler {
    rt: Runtime,
    backends: Backends,
    slots: Arc<Semaphore>,
}

impl Handler for TrainingHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out = Vec::with_capacity(batch.len());
        for msg in batch {
            let task: TrainTask = match protocol::message::decode(&msg.kind, &msg.body) {
                Ok(t) => t,
                Err(e) => {
                    out.push(Disposition::Reject { task: None, error: e.to_string() });
                    continue;
                }
            };
            let span = msg.span(TrainTask::TYPE);
            let permit = self.slots.clone().acquire_owned().await?;
            let envelope = protocol::Envelope::new(protocol::Route::to(WorkQueue::Train), &task);
            let rt = self.rt.clone();
            let trainer = self.backends.trainer.clone();
            let traceparent = telemetry::inject_span(&span).remove("traceparent");
            let t = task.clone();
            let work_span = span.clone();
            let work = move |lease: worker::LeaseGuard| {
                async move {
                    let mut conn = rt.pool.acquire().await.map_err(transient)?;
                    let Some(round) = store::rounds::get(&mut conn, t.round_id).await.map_err(transient)? else {
                        return Err(backend::BackendError::Permanent("unknown round".into()));
                    };
                    if round.is_terminal() {
                        return Ok(());
                    }
                    let ctx = store::rounds::contexts(&mut conn, &[t.round_id]).await.map_err(transient)?;
                    let ctx =
                        ctx.get(&t.round_id).ok_or_else(|| backend::BackendError::Permanent("no context".into()))?;
                    let pairs = store::results::pairs_of_round(&mut conn, t.round_id).await.map_err(transient)?;
                    drop(conn);
                    let request = TrainRequest {
                        base_uri: ctx.base_uri.clone(),
                        pairs: pairs.into_iter().map(|p| (p.question, p.chosen, p.rejected)).collect(),
                        beta: ctx.config.training.beta,
                        learning_rate: ctx.config.training.learning_rate,
                    };
                    let trained = worker::blocking(move || trainer.train(&request)).await.map_err(transient)??;
                    commit(&rt, &t, &lease, &trained).await.map_err(transient)
                }
                .instrument(work_span)
            };
            let outcome = worker::run_leased(
                &self.rt,
                Task::Train(task),
                serde_json::to_value(&envelope)?,
                traceparent,
                permit,
                work,
            )
            .instrument(span)
            .await?;
            if outcome != LeaseOutcome::Started {
                tracing::info!(?outcome, "train task not started here");
            }
            out.push(Disposition::Ack);
        }
        Ok(out)
    }
}

fn transient(e: impl std::fmt::Display) -> backend::BackendError {
    backend::BackendError::Transient(e.to_string())
}

async fn commit(
    rt: &Runtime,
    task: &TrainTask,
    lease: &worker::LeaseGuard,
    trained: &backend::TrainedCheckpoint,
) -> anyhow::Result<()> {
    let mut tx = rt.pool.begin().await?;
    if !lease.complete(&mut tx).await? {
        anyhow::bail!("lease lost before the result was committed");
    }
    let (checkpoint, _) = store::checkpoints::insert_trained(
        &mut tx,
        task.round_id,
        task.base_checkpoint_id,
        &trained.uri,
        &trained.metrics,
    )
    .await?;
    worker::emit(&mut tx, task.round_id, EventKind::Trained { checkpoint_id: checkpoint }, &tracing::Span::current())
        .await?;
    tx.commit().await?;
    tracing::info!(round = %task.round_id, %checkpoint, uri = %trained.uri, "checkpoint recorded");
    Ok(())
}
