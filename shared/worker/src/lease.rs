//! Long tasks (training, evaluation) outlive RabbitMQ's consumer timeout, so they are not held
//! unacknowledged. The worker claims the task's lease in Postgres, acknowledges the message, and
//! works in the background while heartbeating. If the worker dies its lease expires and the
//! orchestrator's reaper republishes the task; while it lives, nobody else takes the task.

use crate::Runtime;
use protocol::{EventKind, Task};
use std::future::Future;
use std::time::Duration;
use store::leases::Claim;
use tokio::sync::OwnedSemaphorePermit;

#[derive(Debug, PartialEq, Eq)]
pub enum LeaseOutcome {
    /// This worker holds the lease; the work runs in the background.
    Started,
    /// A live worker holds it: the delivery is a duplicate.
    HeldElsewhere,
    /// Already finished.
    AlreadyDone,
}

/// What the background work needs to finish: completing the lease inside its result transaction.
#[derive(Clone)]
pub struct LeaseGuard {
    pub key: String,
    pub owner: String,
}

impl LeaseGuard {
    /// Call inside the transaction that commits the result; false means the lease was lost (roll back).
    pub async fn complete(&self, conn: &mut sqlx::PgConnection) -> sqlx::Result<bool> {
        store::leases::complete(conn, &self.key, &self.owner).await
    }
}

pub async fn run_leased<F, Fut>(
    rt: &Runtime,
    task: Task,
    message: serde_json::Value,
    traceparent: Option<String>,
    permit: OwnedSemaphorePermit,
    work: F,
) -> anyhow::Result<LeaseOutcome>
where
    F: FnOnce(LeaseGuard) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), backend::BackendError>> + Send + 'static,
{
    let key = task.key();
    let ttl = rt.settings.lease.ttl_ms as i64;
    let claim = {
        let mut conn = rt.pool.acquire().await?;
        store::leases::claim(&mut conn, &key, &rt.owner, ttl, &message, traceparent.as_deref()).await?
    };
    match claim {
        Claim::HeldElsewhere { owner } => {
            tracing::info!(task = %key, %owner, "task is leased by a live worker; dropping the duplicate delivery");
            return Ok(LeaseOutcome::HeldElsewhere);
        }
        Claim::Completed => return Ok(LeaseOutcome::AlreadyDone),
        Claim::Acquired { attempt } => tracing::info!(task = %key, attempt, "lease acquired"),
    }
    let guard = LeaseGuard { key: key.clone(), owner: rt.owner.clone() };
    let rt = rt.clone();
    tokio::spawn(async move {
        let _permit = permit;
        let heartbeat = heartbeat(&rt, &guard);
        let outcome = tokio::select! {
            r = work(guard.clone()) => Some(r),
            () = heartbeat => None,
        };
        match outcome {
            Some(Ok(())) => {}
            Some(Err(e)) => failed(&rt, &task, &guard, &e).await,
            None => tracing::warn!(task = %guard.key, "lease lost; abandoning the work"),
        }
    });
    Ok(LeaseOutcome::Started)
}

/// Renews the lease until it is lost (then returns).
async fn heartbeat(rt: &Runtime, guard: &LeaseGuard) {
    let every = Duration::from_millis(rt.settings.lease.heartbeat_ms.max(10));
    loop {
        tokio::time::sleep(every).await;
        let renewed = async {
            let mut conn = rt.pool.acquire().await?;
            store::leases::heartbeat(&mut conn, &guard.key, &guard.owner, rt.settings.lease.ttl_ms as i64).await
        }
        .await;
        match renewed {
            Ok(true) => {}
            Ok(false) => return,
            // The database is unreachable: keep working; the lease may expire and be taken over, in
            // which case completing it will fail and the result is discarded.
            Err(e) => tracing::warn!(error = %e, "lease heartbeat failed"),
        }
    }
}

/// A failed attempt: retried (through the reaper) until the delivery limit, then the task is dead
/// and the orchestrator is told.
async fn failed(rt: &Runtime, task: &Task, guard: &LeaseGuard, error: &backend::BackendError) {
    let key = task.key();
    let failed = store::failures::FailedTask::of(task, &key);
    let result: anyhow::Result<()> = async {
        let mut tx = rt.pool.begin().await?;
        let attempts = store::failures::record_attempt(&mut tx, &failed, &error.to_string()).await?;
        let permanent = matches!(error, backend::BackendError::Permanent(_));
        if permanent || attempts >= rt.settings.broker.delivery_limit as i32 {
            let reason = format!("failed {attempts} time(s); last error: {error}");
            store::failures::mark_dead(&mut tx, &failed, &reason).await?;
            store::leases::close(&mut tx, &key).await?;
            let kind =
                EventKind::TaskFailed { task_key: key.clone(), stage: task.stage().into(), prompt_id: None, reason };
            if let Some(round) = task.round_id() {
                crate::emit(&mut tx, round, kind, &tracing::Span::current()).await?;
            }
        } else {
            store::leases::release(&mut tx, &key, &guard.owner).await?;
        }
        tx.commit().await?;
        Ok(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, task = %key, "could not record a failed leased task; its lease will expire");
    }
}
