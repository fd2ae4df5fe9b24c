//! The evaluation worker: evaluates the checkpoint a round produced and stores the scores per suite.
//! Like training it runs under a lease, since benchmark suites can take long.

use backend::{Backends, EvaluateRequest};
use protocol::{EvaluateTask, EventKind, MessageType, Task, WorkQueue};
use std::sync::Arc;
use tokio::sync::Semaphore;
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = settings.backends()?;
    tracing::info!(backend = backends.name, "evaluation worker starting");
    let rt = Runtime::start("evaluation", settings).await?;
    let handler = Arc::new(EvaluationHandler { rt: rt.clone(), backends, slots: Arc::new(Semaphore::new(1)) });
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Evaluate, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct EvaluationHandler {
    rt: Runtime,
    backends: Backends,
    slots: Arc<Semaphore>,
}

fn transient(e: impl std::fmt::Display) -> backend::BackendError {
    backend::BackendError::Transient(e.to_string())
}

impl Handler for EvaluationHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out = Vec::with_capacity(batch.len());
        for msg in batch {
            let task: EvaluateTask = match protocol::message::decode(&msg.kind, &msg.body) {
                Ok(t) => t,
                Err(e) => {
                    out.push(Disposition::Reject { task: None, error: e.to_string() });
                    continue;
                }
            };
            let span = msg.span(EvaluateTask::TYPE);
            let permit = self.slots.clone().acquire_owned().await?;
            let envelope = protocol::Envelope::new(protocol::Route::to(WorkQueue::Evaluate), &task);
            let traceparent = telemetry::inject_span(&span).remove("traceparent");
            let (rt, evaluator, t) = (self.rt.clone(), self.backends.evaluator.clone(), task.clone());
            let work_span = span.clone();
            let work = move |lease: worker::LeaseGuard| {
                async move {
                    let mut conn = rt.pool.acquire().await.map_err(transient)?;
                    let checkpoint = store::checkpoints::get(&mut conn, t.checkpoint_id).await.map_err(transient)?;
                    let ctx = store::rounds::contexts(&mut conn, &[t.round_id]).await.map_err(transient)?;
                    drop(conn);
                    let (Some(checkpoint), Some(ctx)) = (checkpoint, ctx.get(&t.round_id)) else {
                        return Err(backend::BackendError::Permanent("unknown checkpoint or round".into()));
                    };
                    let request = EvaluateRequest { checkpoint_uri: checkpoint.uri, base_uri: ctx.base_uri.clone() };
                    let suites = worker::blocking(move || evaluator.evaluate(&request)).await.map_err(transient)??;
                    let result: anyhow::Result<()> = async {
                        let mut tx = rt.pool.begin().await?;
                        if !lease.complete(&mut tx).await? {
                            anyhow::bail!("lease lost before the result was committed");
                        }
                        for (suite, metrics) in &suites {
                            store::results::insert_evaluation(&mut tx, t.checkpoint_id, t.round_id, suite, metrics)
                                .await?;
                        }
                        let kind = EventKind::Evaluated { checkpoint_id: t.checkpoint_id };
                        worker::emit(&mut tx, t.round_id, kind, &tracing::Span::current()).await?;
                        tx.commit().await?;
                        Ok(())
                    }
                    .await;
                    result.map_err(transient)
                }
                .instrument(work_span)
            };
            worker::run_leased(
                &self.rt,
                Task::Evaluate(task),
                serde_json::to_value(&envelope)?,
                traceparent,
                permit,
                work,
            )
            .instrument(span)
            .await?;
            out.push(Disposition::Ack);
        }
        Ok(out)
    }
}
