//! The backlog dispatcher: releases judge-job chunks into the `backlog` queue by the jobs' priority
//! shares (stride scheduling, `store::judge_jobs::release`), keeping at most `saga.backlog_window`
//! chunks in flight. It polls quickly while jobs run and slowly when none do; the API's NOTIFY on a
//! new job wakes it at once.

use protocol::{Envelope, JudgeChunkTask, Route, WorkQueue};
use sqlx::postgres::PgListener;
use std::time::Duration;
use worker::Runtime;

pub const CHANNEL: &str = "criticloop_judge_jobs";
const BUSY: Duration = Duration::from_millis(5);
const IDLE: Duration = Duration::from_millis(200);

pub async fn dispatch(rt: Runtime) {
    let mut backoff = queue::Backoff::default();
    while !rt.stopping() {
        if let Err(e) = session(&rt, &mut backoff).await {
            tracing::warn!(error = %e, "backlog dispatcher interrupted; retrying");
            backoff.wait().await;
        }
    }
}

async fn session(rt: &Runtime, backoff: &mut queue::Backoff) -> anyhow::Result<()> {
    let mut listener = PgListener::connect_with(&rt.pool).await?;
    listener.listen(CHANNEL).await?;
    backoff.reset();
    let mut wait = BUSY;
    while !rt.stopping() {
        wait = match release_once(rt).await? {
            0 if wait < IDLE => (wait * 2).min(IDLE),
            0 => IDLE,
            _ => BUSY,
        };
        tokio::select! {
            n = listener.recv() => { n?; wait = BUSY; }
            _ = tokio::time::sleep(wait) => {}
            _ = rt.stopped() => {}
        }
    }
    Ok(())
}

/// Releases what the window allows; returns how many chunks.
async fn release_once(rt: &Runtime) -> anyhow::Result<usize> {
    let mut tx = rt.pool.begin().await?;
    let released = store::judge_jobs::release(&mut tx, rt.settings.saga.backlog_window).await?;
    if released.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    // one outbox row per trace (job), so each chunk's span joins its job's trace
    let mut by_job: Vec<store::outbox::Outgoing> = Vec::new();
    for r in &released {
        let message = Envelope::new(Route::to(WorkQueue::Backlog), &JudgeChunkTask { job_id: r.job, chunk: r.chunk });
        match by_job.iter_mut().find(|o| o.traceparent == r.traceparent) {
            Some(o) => o.messages.push(message),
            None => {
                by_job.push(store::outbox::Outgoing { messages: vec![message], traceparent: r.traceparent.clone() })
            }
        }
    }
    store::outbox::enqueue_all(&mut tx, &by_job).await?;
    store::outbox::notify(&mut tx).await?;
    tx.commit().await?;
    tracing::debug!(chunks = released.len(), "released judge-job chunks");
    Ok(released.len())
}
