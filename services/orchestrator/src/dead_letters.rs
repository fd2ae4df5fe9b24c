//! The dead-letter queue: tasks RabbitMQ gave up on (delivery limit) or workers rejected. Each is
//! recorded as dead with its reason, and the saga applies the failure (skip the prompt or fail the round).

use protocol::{Event, EventKind, Task};
use queue::Death;
use tracing::Instrument;
use worker::{Disposition, Handler, Incoming, Runtime};

pub struct DeadLetterHandler {
    rt: Runtime,
}

impl DeadLetterHandler {
    pub fn new(rt: Runtime) -> Self {
        Self { rt }
    }
}

fn describe(death: Option<&Death>) -> String {
    match death {
        Some(d) if d.reason == "delivery_limit" => format!("delivery limit reached on {}", d.queue),
        Some(d) if d.reason == "rejected" => format!("rejected by its worker on {}", d.queue),
        Some(d) => format!("dead-lettered from {} ({})", d.queue, d.reason),
        None => "dead-lettered".to_string(),
    }
}

impl Handler for DeadLetterHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut tx = self.rt.pool.begin().await?;
        for msg in batch {
            record(&mut tx, msg, &self.rt.settings.saga).instrument(msg.span("dead_letter")).await?;
        }
        store::outbox::notify(&mut tx).await?;
        tx.commit().await?;
        Ok(batch.iter().map(|_| Disposition::Ack).collect())
    }
}

async fn record(tx: &mut store::PgConnection, msg: &Incoming, saga: &config::SagaConfig) -> anyhow::Result<()> {
    let how = describe(msg.death.as_ref());
    let task = match Task::decode(&msg.kind, &msg.body) {
        Ok(task) => task,
        Err(e) => {
            // Not a task we can attribute (an event, or a malformed body): record it whole.
            let digest = msg.body.iter().fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(*b)));
            let kind = if msg.kind.is_empty() { "untyped" } else { &msg.kind };
            let key = format!("dead/{kind}/{digest:016x}");
            let failed =
                store::failures::FailedTask { key: &key, stage: "unknown", round: None, prompt: None, job: None };
            let reason = format!("{how}; {e}");
            store::failures::mark_dead(tx, &failed, &reason).await?;
            tracing::warn!(%key, %reason, "undecodable dead letter recorded");
            return Ok(());
        }
    };
    let key = task.key();
    let reason = match store::failures::last_error(tx, &key).await? {
        Some(last) => format!("{how}; last error: {last}"),
        None => how,
    };
    let (newly, _) = store::failures::mark_dead(tx, &store::failures::FailedTask::of(&task, &key), &reason).await?;
    tracing::warn!(task = %key, %reason, newly, "task is dead");
    if !newly {
        return Ok(());
    }
    if let Task::JudgeChunk(t) = &task {
        // the chunk's unjudged items fail with the reason; the job goes on with its other chunks
        if store::judge_jobs::fail_chunk(tx, t.job_id, t.chunk, &reason).await? {
            store::judge_jobs::queue_agreement(tx, t.job_id).await?;
        }
        return Ok(());
    }
    let Some(round_id) = task.round_id() else {
        return Ok(()); // agreement tasks: recorded above; the job stays `scoring` with its failure listed
    };
    let kind = EventKind::TaskFailed {
        task_key: key.clone(),
        stage: task.stage().into(),
        prompt_id: task.prompt_id(),
        reason,
    };
    crate::saga::apply(tx, &Event { round_id, kind }, saga).await
}
