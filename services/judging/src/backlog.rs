//! Judge-job chunks: each message names a chunk of a job's items. The worker renders each unjudged
//! item with its template, sends every item of the batch to the critic in one call, parses the
//! answers, and writes them (first write wins). A permanent critic failure fails that item alone; a
//! transient one requeues the chunk, keeping the items that did succeed. When the last item of a job
//! is written, its agreement metrics are queued in the same transaction.

use backend::{BackendError, Backends, JudgeRequest};
use protocol::{JudgeChunkTask, JudgeItem, Task};
use std::collections::HashMap;
use store::judge_jobs::{ItemResult, PendingItem};
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, Runtime};

pub struct BacklogHandler {
    pub rt: Runtime,
    pub backends: Backends,
}

/// Where a critic answer goes: the message and the item position, with the format to parse it by.
struct Slot {
    message: usize,
    position: i32,
    format: critic::OutputFormat,
    pairwise: bool,
}

impl Handler for BacklogHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let worker::Decoded { messages: tasks, dispositions: mut out } = worker::Decoded::<JudgeChunkTask>::of(batch);
        let mut requests = Vec::new();
        let mut slots = Vec::new();
        let mut results: HashMap<usize, Vec<ItemResult>> = HashMap::new();
        let mut conn = self.rt.pool.acquire().await?;
        for (n, task, span) in &tasks {
            let pending =
                store::judge_jobs::pending_items(&mut conn, task.job_id, task.chunk).instrument(span.clone()).await?;
            let Some((critic_uri, items)) = pending else {
                let error = format!("judge job {} does not exist", task.job_id);
                out[*n] = Some(Disposition::Reject { task: Some(Task::JudgeChunk(task.clone())), error });
                continue;
            };
            if items.is_empty() {
                out[*n] = Some(Disposition::Ack); // a redelivery after the commit
                continue;
            }
            let failed = results.entry(*n).or_default();
            for item in items {
                match request(&item, &critic_uri) {
                    Ok((req, format, pairwise)) => {
                        requests.push(req);
                        slots.push(Slot { message: *n, position: item.position, format, pairwise });
                    }
                    Err(error) => failed.push(ItemResult::Failed { position: item.position, error }),
                }
            }
        }
        drop(conn);

        let critic = self.backends.critic.clone();
        let answers = worker::blocking(move || critic.judge(&requests)).await?;
        let mut transient: HashMap<usize, String> = HashMap::new();
        for (slot, answer) in slots.iter().zip(answers) {
            let result = match answer {
                Ok(raw) => {
                    let parsed = critic::parse(slot.format, &raw);
                    let score = parsed.verdict().and_then(|v| match v {
                        critic::Verdict::Score { value } if !slot.pairwise => Some(*value),
                        v => critic::relative_score(v),
                    });
                    ItemResult::Judged {
                        position: slot.position,
                        verdict: serde_json::to_value(&parsed)?,
                        score,
                        raw_output: raw,
                    }
                }
                Err(BackendError::Permanent(error)) => ItemResult::Failed { position: slot.position, error },
                Err(BackendError::Transient(error)) => {
                    transient.insert(slot.message, error);
                    continue;
                }
            };
            results.entry(slot.message).or_default().push(result);
        }

        let mut tx = self.rt.pool.begin().await?;
        for (n, task, span) in &tasks {
            if out[*n].is_some() {
                continue;
            }
            let rows = results.remove(n).unwrap_or_default();
            let finished = store::judge_jobs::record_results(&mut tx, task.job_id, task.chunk, &rows)
                .instrument(span.clone())
                .await?;
            if finished {
                store::judge_jobs::queue_agreement(&mut tx, task.job_id).await?;
            }
            out[*n] = Some(match transient.remove(n) {
                None => Disposition::Ack,
                Some(error) => Disposition::Retry { task: Some(Task::JudgeChunk(task.clone())), error },
            });
        }
        tx.commit().await?;
        Ok(worker::settled(out))
    }
}

/// The critic request of one item, with the format its answer is parsed by; an error fails the item.
fn request(item: &PendingItem, critic_uri: &str) -> Result<(JudgeRequest, critic::OutputFormat, bool), String> {
    let judge: JudgeItem = serde_json::from_value(item.item.clone()).map_err(|e| format!("stored item: {e}"))?;
    let template =
        critic::templates::get(&item.template).ok_or_else(|| format!("unknown critic template `{}`", item.template))?;
    let pairwise = judge.is_pairwise();
    let mut fields = if pairwise {
        critic::Fields::pairwise(&judge.question, &judge.responses[0], &judge.responses[1])
    } else {
        critic::Fields::pointwise(&judge.question, &judge.responses[0])
    };
    if let Some(reference) = &judge.reference {
        fields = fields.with_reference(reference);
    }
    let prompt = template.render(&fields).map_err(|e| e.to_string())?;
    let prompt = if judge.image.is_some() { critic::templates::with_image_token(&prompt) } else { prompt };
    let req = JudgeRequest {
        prompt,
        question: judge.question.clone(),
        image: judge.image.clone(),
        first: judge.responses[0].clone(),
        second: judge.responses.get(1).cloned(),
        critic_uri: critic_uri.to_string(),
        format: template.format,
        truth: None,
    };
    Ok((req, template.format, pairwise))
}
