//! The training worker: trains the round's policy on its pairs and records the new checkpoint with
//! its parent. Training outlives RabbitMQ's consumer timeout, so the task runs under a lease
//! (`worker::LeasedHandler`): one training at a time per worker. The backend is built by
//! `backend_tch::build`: the `tch` DPO trainer, or any kind of the `backend` crate (the fake).

use backend::{BackendError, Backends, TrainPair, TrainRequest};
use protocol::{EventKind, Task, TrainTask, WorkQueue};
use std::sync::Arc;
use worker::{LeaseGuard, LeasedHandler, LongTask, Runtime, transient};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = backend_external::build(settings.backend_config()?, &settings.artifact_store())
        .map_err(|e| anyhow::anyhow!("backend: {e}"))?;
    tracing::info!(backend = backends.name, "training worker starting");
    let rt = Runtime::start("training", settings).await?;
    let handler = Arc::new(LeasedHandler::new(rt.clone(), Training { backends }, 1));
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Train, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct Training {
    backends: Backends,
}

impl LongTask for Training {
    type Message = TrainTask;
    const QUEUE: WorkQueue = WorkQueue::Train;

    fn task(message: &TrainTask) -> Task {
        Task::Train(message.clone())
    }

    fn run(
        &self,
        rt: Runtime,
        t: TrainTask,
        lease: LeaseGuard,
    ) -> impl Future<Output = Result<(), BackendError>> + Send + use<> {
        let trainer = self.backends.trainer.clone();
        async move {
            let mut conn = rt.pool.acquire().await.map_err(transient)?;
            let Some(round) = store::rounds::get(&mut conn, t.round_id).await.map_err(transient)? else {
                return Err(BackendError::Permanent("unknown round".into()));
            };
            if round.is_terminal() {
                return Ok(());
            }
            let ctx = store::rounds::contexts(&mut conn, &[t.round_id]).await.map_err(transient)?;
            let ctx = ctx.get(&t.round_id).ok_or_else(|| BackendError::Permanent("no round context".into()))?;
            let pairs = store::results::pairs_of_round(&mut conn, t.round_id).await.map_err(transient)?;
            drop(conn);
            let request = TrainRequest {
                base_uri: ctx.base_uri.clone(),
                pairs: pairs
                    .into_iter()
                    .map(|p| TrainPair {
                        id: p.prompt_id.to_string(),
                        prompt: p.question,
                        image: p.image,
                        chosen: p.chosen,
                        rejected: p.rejected,
                    })
                    .collect(),
                beta: ctx.config.training.beta,
                learning_rate: ctx.config.training.learning_rate,
                epochs: ctx.config.training.epochs,
                seed: ctx.config.seed,
            };
            let span = tracing::Span::current();
            let trained =
                worker::blocking(move || span.in_scope(|| trainer.train(&request))).await.map_err(transient)??;
            commit(&rt, &t, &lease, &trained).await.map_err(transient)
        }
    }
}

async fn commit(
    rt: &Runtime,
    task: &TrainTask,
    lease: &LeaseGuard,
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
