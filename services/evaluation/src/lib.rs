//! The evaluation worker: evaluates the checkpoint a round produced and stores the scores per suite. The
//! campaign's held-out dataset (`evaluation.dataset_id`), if any, is read here and handed to the backend.
//! It also scores finished judge jobs against their labels (`agreement`). Checkpoint evaluation,
//! like training, runs under a lease (`worker::LeasedHandler`), since benchmark suites can take long.

pub mod agreement;

use backend::{BackendError, Backends, CriticSuites, EvalItem, EvaluateRequest};
use protocol::{EvaluateTask, EventKind, Task, WorkQueue};
use std::sync::Arc;
use worker::{LeaseGuard, LeasedHandler, LongTask, Runtime, transient};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = backend_tch::build(settings.backend_config()?, &settings.artifact_store())
        .map_err(|e| anyhow::anyhow!("backend: {e}"))?;
    tracing::info!(backend = backends.name, "evaluation worker starting");
    let rt = Runtime::start("evaluation", settings).await?;
    let handler = Arc::new(LeasedHandler::new(rt.clone(), Evaluation { backends }, 1));
    let scoring = Arc::new(agreement::AgreementHandler { rt: rt.clone() });
    let consumers = vec![
        tokio::spawn(worker::consume(rt.clone(), WorkQueue::Evaluate, handler)),
        tokio::spawn(worker::consume(rt.clone(), WorkQueue::Agreement, scoring)),
    ];
    worker::run_until_stopped(rt, consumers).await
}

pub struct Evaluation {
    backends: Backends,
}

impl LongTask for Evaluation {
    type Message = EvaluateTask;
    const QUEUE: WorkQueue = WorkQueue::Evaluate;

    fn task(message: &EvaluateTask) -> Task {
        Task::Evaluate(message.clone())
    }

    fn run(
        &self,
        rt: Runtime,
        t: EvaluateTask,
        lease: LeaseGuard,
    ) -> impl Future<Output = Result<(), BackendError>> + Send + use<> {
        let evaluator = self.backends.evaluator.clone();
        async move {
            let mut conn = rt.pool.acquire().await.map_err(transient)?;
            let checkpoint = store::checkpoints::get(&mut conn, t.checkpoint_id).await.map_err(transient)?;
            let ctx = store::rounds::contexts(&mut conn, &[t.round_id]).await.map_err(transient)?;
            let (Some(checkpoint), Some(ctx)) = (checkpoint, ctx.get(&t.round_id)) else {
                return Err(BackendError::Permanent("unknown checkpoint or round".into()));
            };
            let spec = &ctx.config.evaluation;
            let items = match spec.dataset_id {
                Some(dataset) => store::datasets::eval_rows(&mut conn, dataset).await.map_err(transient)?,
                None => Vec::new(),
            };
            drop(conn);
            let critic = (spec.critic_judged && !items.is_empty()).then(|| CriticSuites {
                critic_uri: spec.critic.clone().unwrap_or_else(|| ctx.config.critic.checkpoint.clone()),
                pairwise_template: ctx.config.critic.template.clone(),
                round0_uri: ctx.config.policy.checkpoint.clone(),
            });
            let request = EvaluateRequest {
                checkpoint_uri: checkpoint.uri,
                base_uri: ctx.base_uri.clone(),
                items: items.into_iter().map(eval_item).collect(),
                max_new_tokens: spec.max_new_tokens.unwrap_or(64),
                critic,
            };
            let suites = worker::blocking(move || evaluator.evaluate(&request)).await.map_err(transient)??;
            commit(&rt, &t, &lease, &suites).await.map_err(transient)
        }
    }
}

fn eval_item(row: store::datasets::EvalRow) -> EvalItem {
    EvalItem {
        id: row.id.to_string(),
        question: row.question,
        image: row.image_ref,
        reference_answer: row.reference_answer,
        extra: row.extra,
    }
}

async fn commit(
    rt: &Runtime,
    t: &EvaluateTask,
    lease: &LeaseGuard,
    suites: &[(String, serde_json::Value)],
) -> anyhow::Result<()> {
    let mut tx = rt.pool.begin().await?;
    if !lease.complete(&mut tx).await? {
        anyhow::bail!("lease lost before the result was committed");
    }
    for (suite, metrics) in suites {
        store::results::insert_evaluation(&mut tx, t.checkpoint_id, t.round_id, suite, metrics).await?;
    }
    worker::emit(
        &mut tx,
        t.round_id,
        EventKind::Evaluated { checkpoint_id: t.checkpoint_id },
        &tracing::Span::current(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
