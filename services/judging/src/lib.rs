//! The judging worker: critiques ordered pairs of a prompt's samples with the critic, parses the
//! verdicts, stores them with the raw output, and tells the orchestrator when a prompt's K(K-1)
//! judgments are all in. A prefetch window's tasks are judged in one backend call.

use backend::{BackendError, Backends, JudgeRequest};
use protocol::{EventKind, JudgeTask, MessageType, Task, WorkQueue};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use uuid::Uuid;
use worker::{Disposition, Handler, Incoming, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = settings.backends()?;
    tracing::info!(backend = backends.name, "judging worker starting");
    let rt = Runtime::start("judging", settings).await?;
    let handler = Arc::new(JudgingHandler { rt: rt.clone(), backends });
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Judge, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct JudgingHandler {
    rt: Runtime,
    backends: Backends,
}

impl Handler for JudgingHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out: Vec<Option<Disposition>> = Vec::with_capacity(batch.len());
        let mut tasks: Vec<(usize, JudgeTask, tracing::Span)> = Vec::new();
        for (n, msg) in batch.iter().enumerate() {
            match protocol::message::decode::<JudgeTask>(&msg.kind, &msg.body) {
                Ok(t) => {
                    tasks.push((n, t, msg.span(JudgeTask::TYPE)));
                    out.push(None);
                }
                Err(e) => out.push(Some(Disposition::Reject { task: None, error: e.to_string() })),
            }
        }
        let t0 = std::time::Instant::now();
        let mut conn = self.rt.pool.acquire().await?;
        let rounds: Vec<Uuid> = tasks.iter().map(|t| t.1.round_id).collect::<HashSet<_>>().into_iter().collect();
        let contexts = store::rounds::contexts(&mut conn, &rounds).await?;
        let keys: Vec<(Uuid, Uuid)> = tasks.iter().map(|t| (t.1.round_id, t.1.prompt_id)).collect();
        let inputs = store::results::judge_inputs(&mut conn, &keys).await?;
        drop(conn);

        let mut requests = Vec::new();
        let mut formats = Vec::new();
        let mut work = Vec::new();
        for (n, task, span) in tasks {
            let ctx = contexts.get(&task.round_id);
            let question = inputs.questions.get(&(task.round_id, task.prompt_id));
            let first = inputs.samples.get(&(task.round_id, task.prompt_id, task.i as i32));
            let second = inputs.samples.get(&(task.round_id, task.prompt_id, task.j as i32));
            let (Some(ctx), Some(question), Some(first), Some(second)) = (ctx, question, first, second) else {
                let error = "the task names a round, prompt or sample that does not exist".to_string();
                out[n] = Some(Disposition::Reject { task: Some(Task::Judge(task)), error });
                continue;
            };
            if !ctx.wanted() {
                out[n] = Some(Disposition::Ack);
                continue;
            }
            let rendered = match critic::templates::get(&ctx.config.critic.template) {
                None => Err(format!("unknown critic template `{}`", ctx.config.critic.template)),
                Some(t) => t
                    .render(&critic::Fields::pairwise(question, first, second))
                    .map(|p| (t, p))
                    .map_err(|e| e.to_string()),
            };
            let (template, prompt) = match rendered {
                Ok(x) => x,
                Err(error) => {
                    out[n] = Some(Disposition::Reject { task: Some(Task::Judge(task)), error });
                    continue;
                }
            };
            formats.push(template.format);
            requests.push(JudgeRequest {
                prompt: critic::templates::with_image_token(&prompt),
                question: question.clone(),
                first: first.clone(),
                second: second.clone(),
                critic_uri: ctx.config.critic.checkpoint.clone(),
            });
            work.push((n, task, span));
        }
        let t1 = t0.elapsed();
        let critic = self.backends.critic.clone();
        let results = worker::blocking(move || critic.judge(&requests)).await?;
        let t2 = t0.elapsed();

        let mut rows = Vec::new();
        let mut spans: HashMap<(Uuid, Uuid), tracing::Span> = HashMap::new();
        for (((n, task, span), result), format) in work.into_iter().zip(results).zip(formats) {
            match result {
                Ok(raw) => {
                    let parsed = critic::parse(format, &raw);
                    let score = parsed.verdict().and_then(critic::relative_score);
                    rows.push(store::results::NewJudgment {
                        round: task.round_id,
                        prompt: task.prompt_id,
                        i: task.i as i32,
                        j: task.j as i32,
                        verdict: serde_json::to_value(&parsed)?,
                        score,
                        raw_output: raw,
                    });
                    spans.insert((task.round_id, task.prompt_id), span);
                    out[n] = Some(Disposition::Ack);
                }
                Err(BackendError::Transient(e)) => {
                    out[n] = Some(Disposition::Retry { task: Some(Task::Judge(task)), error: e })
                }
                Err(BackendError::Permanent(e)) => {
                    out[n] = Some(Disposition::Reject { task: Some(Task::Judge(task)), error: e })
                }
            }
        }
        let mut tx = self.rt.pool.begin().await?;
        let tb = std::time::Instant::now();
        let fresh = store::results::insert_judgments(&mut tx, &rows).await?;
        let t_insert = tb.elapsed();
        if !fresh.is_empty() {
            let mut events = worker::Emitter::default();
            for (round, prompt) in store::progress::add_judgments(&mut tx, &fresh).await? {
                let span = spans.get(&(round, prompt)).cloned().unwrap_or_else(tracing::Span::current);
                events.push(round, EventKind::Judged { prompt_id: prompt }, &span);
            }
            events.write(&mut tx).await?;
        }
        let t3 = t0.elapsed();
        tracing::debug!(begin_insert_us = t_insert.as_micros() as u64, "judge insert");
        tx.commit().await?;
        tracing::debug!(
            read_us = t1.as_micros() as u64,
            model_us = (t2 - t1).as_micros() as u64,
            write_us = (t3 - t2).as_micros() as u64,
            commit_us = (t0.elapsed() - t3).as_micros() as u64,
            "judge batch"
        );
        Ok(out.into_iter().map(|d| d.unwrap_or(Disposition::Ack)).collect())
    }
}
