//! The judging worker: critiques ordered pairs of a prompt's samples with the critic, parses the
//! verdicts, stores them with the raw output, and tells the orchestrator when a prompt's K(K-1)
//! judgments are all in; it also judges the items of judge jobs (`backlog`). Every pair of every message in
//! the prefetch window's batch goes to the backend in one call (the tch critic runs them
//! `judge_batch_size` per forward pass); pairs already judged (a redelivery) are skipped. The backend is
//! built by `backend_tch::build`: the `tch` critic, or any kind of the `backend` crate (the fake).

mod backlog;
mod plan;

use backend::{BackendError, Backends};
use protocol::{EventKind, JudgeTask, Task, WorkQueue};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;
use worker::{Disposition, Handler, Incoming, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = backend_tch::build(settings.backend_config()?, &settings.artifact_store())
        .map_err(|e| anyhow::anyhow!("backend: {e}"))?;
    tracing::info!(backend = backends.name, "judging worker starting");
    let rt = Runtime::start("judging", settings).await?;
    let handler = Arc::new(JudgingHandler { rt: rt.clone(), backends: backends.clone() });
    let backlog = Arc::new(backlog::BacklogHandler { rt: rt.clone(), backends });
    // Campaign pairs and judge-job chunks come on separate queues, each with its own prefetch and
    // batches, so neither waits behind the other; the backlog queue only ever holds the dispatcher's
    // window (`saga.backlog_window` chunks), released by the jobs' priorities.
    let consumers = vec![
        tokio::spawn(worker::consume(rt.clone(), WorkQueue::Judge, handler)),
        tokio::spawn(worker::consume(rt.clone(), WorkQueue::Backlog, backlog)),
    ];
    worker::run_until_stopped(rt, consumers).await
}

pub struct JudgingHandler {
    rt: Runtime,
    backends: Backends,
}

impl Handler for JudgingHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let worker::Decoded { messages: tasks, dispositions: mut out } = worker::Decoded::<JudgeTask>::of(batch);
        let mut conn = self.rt.pool.acquire().await?;
        let rounds: Vec<Uuid> = tasks.iter().map(|t| t.1.round_id).collect::<HashSet<_>>().into_iter().collect();
        let contexts = store::rounds::contexts(&mut conn, &rounds).await?;
        let keys: Vec<(Uuid, Uuid)> = tasks.iter().map(|t| (t.1.round_id, t.1.prompt_id)).collect();
        let inputs = store::results::judge_inputs(&mut conn, &keys).await?;
        drop(conn);

        let plan = plan::Plan::build(&tasks, &contexts, &inputs);
        for (n, disposition) in &plan.settled {
            out[*n] = Some(match disposition {
                plan::Early::Ack => Disposition::Ack,
                plan::Early::Reject(task, error) => {
                    Disposition::Reject { task: Some(task.clone()), error: error.clone() }
                }
            });
        }
        let critic = self.backends.critic.clone();
        let requests = plan.requests.clone();
        let results = worker::blocking(move || critic.judge(&requests)).await?;

        let mut rows = Vec::new();
        let mut failures: HashMap<usize, BackendError> = HashMap::new();
        for (item, result) in plan.items.iter().zip(results) {
            match result {
                Ok(raw) => {
                    let parsed = critic::parse(item.format, &raw);
                    let score = parsed.verdict().and_then(critic::relative_score);
                    rows.push(store::results::NewJudgment {
                        round: item.round,
                        prompt: item.prompt,
                        i: item.i,
                        j: item.j,
                        verdict: serde_json::to_value(&parsed)?,
                        score,
                        raw_output: raw,
                    });
                }
                // A permanent failure of any pair outweighs a transient one of another.
                Err(e) => {
                    let keep = matches!(failures.get(&item.message), Some(BackendError::Permanent(_)));
                    if !keep {
                        failures.insert(item.message, e);
                    }
                }
            }
        }
        for (n, task, _) in &tasks {
            if out[*n].is_some() {
                continue;
            }
            out[*n] = Some(match failures.remove(n) {
                None => Disposition::Ack,
                Some(BackendError::Transient(e)) => {
                    Disposition::Retry { task: Some(Task::Judge(task.clone())), error: e }
                }
                Some(BackendError::Permanent(e)) => {
                    Disposition::Reject { task: Some(Task::Judge(task.clone())), error: e }
                }
            });
        }

        // Judgments that succeeded are kept even when a sibling pair of their message will be retried.
        let spans: HashMap<(Uuid, Uuid), &tracing::Span> =
            tasks.iter().map(|(_, t, s)| ((t.round_id, t.prompt_id), s)).collect();
        let mut tx = self.rt.pool.begin().await?;
        let fresh = store::results::insert_judgments(&mut tx, &rows).await?;
        if !fresh.is_empty() {
            let mut events = worker::Emitter::default();
            for (round, prompt) in store::progress::add_judgments(&mut tx, &fresh).await? {
                let current = tracing::Span::current();
                let span = spans.get(&(round, prompt)).copied().unwrap_or(&current);
                events.push(round, EventKind::Judged { prompt_id: prompt }, span);
            }
            events.write(&mut tx).await?;
        }
        tx.commit().await?;
        Ok(worker::settled(out))
    }
}
