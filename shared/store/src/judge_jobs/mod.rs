//! Judge jobs: submission (items in one transaction, so a rejected upload stores nothing), status,
//! the dispatcher's chunk release, the judging worker's result writes, and the results and metrics
//! reads. Chunk and item writes are conditional, so a redelivered chunk changes nothing.

mod dispatch;
mod items;

pub use dispatch::{Released, release};
pub use items::{
    ItemResult, MetricRow, PendingItem, ResultRow, fail_chunk, metric_rows, pending_items, record_results,
    results_page, set_metrics,
};

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

pub struct NewJob<'a> {
    pub id: Uuid,
    pub name: Option<&'a str>,
    pub priority: u8,
    pub critic: &'a str,
    pub template: Option<&'a str>,
    pub chunk_items: u32,
    pub traceparent: Option<&'a str>,
}

/// Creates the job row (empty until [`finish_submission`]); call inside the submission transaction.
pub async fn create(conn: &mut PgConnection, job: &NewJob<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into judge_jobs
             (id, name, priority, critic, template, items_total, chunk_items, chunks_total, traceparent)
         values ($1, $2, $3, $4, $5, 0, $6, 0, $7)",
    )
    .bind(job.id)
    .bind(job.name)
    .bind(i16::from(job.priority))
    .bind(job.critic)
    .bind(job.template)
    .bind(job.chunk_items as i32)
    .bind(job.traceparent)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewItem {
    pub position: i32,
    pub item: serde_json::Value,
    pub template: String,
}

/// Inserts a batch of a job's items; their chunk follows from the position.
pub async fn insert_items(conn: &mut PgConnection, job: Uuid, chunk_items: u32, items: &[NewItem]) -> sqlx::Result<()> {
    let positions: Vec<i32> = items.iter().map(|i| i.position).collect();
    let bodies: Vec<&serde_json::Value> = items.iter().map(|i| &i.item).collect();
    let templates: Vec<&str> = items.iter().map(|i| i.template.as_str()).collect();
    sqlx::query(
        "insert into judge_items (job_id, position, chunk, item, template)
         select $1, p, p / $2, i, t from unnest($3::int[], $4::jsonb[], $5::text[]) as u(p, i, t)",
    )
    .bind(job)
    .bind(chunk_items as i32)
    .bind(&positions)
    .bind(&bodies)
    .bind(&templates)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets the job's totals once every item is inserted; the dispatcher starts releasing it after commit.
pub async fn finish_submission(conn: &mut PgConnection, job: Uuid, items: u32, has_labels: bool) -> sqlx::Result<()> {
    sqlx::query(
        "update judge_jobs set items_total = $2, has_labels = $3,
             chunks_total = ($2 + chunk_items - 1) / chunk_items
         where id = $1",
    )
    .bind(job)
    .bind(items as i32)
    .bind(has_labels)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct JobStatus {
    pub id: Uuid,
    pub name: Option<String>,
    pub priority: i16,
    pub critic: String,
    pub template: Option<String>,
    pub state: String,
    pub items_total: i32,
    pub items_judged: i32,
    pub items_failed: i32,
    pub chunks_total: i32,
    pub chunks_dispatched: i32,
    pub has_labels: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

const STATUS_COLUMNS: &str = "id, name, priority, critic, template, state, items_total, items_judged, items_failed, chunks_total, \
                              chunks_dispatched, has_labels, created_at, finished_at";

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<JobStatus>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {STATUS_COLUMNS} from judge_jobs where id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Newest first.
pub async fn list(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<JobStatus>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {STATUS_COLUMNS} from judge_jobs order by created_at desc limit $1"
    )))
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// Stops releasing the job's chunks; chunks already released finish. Returns false when the job was
/// not running.
pub async fn cancel(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update judge_jobs set state = 'cancelled', finished_at = now() where id = $1 and state = 'running'",
    )
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The stored metrics (null until the job is scored).
pub async fn metrics(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<serde_json::Value>> {
    let row: Option<(Option<serde_json::Value>,)> =
        sqlx::query_as("select metrics from judge_jobs where id = $1").bind(id).fetch_optional(conn).await?;
    Ok(row.and_then(|r| r.0))
}

/// Counts items of a chunk toward the job; when the job's last item is settled it moves to `scoring`
/// and this returns true (exactly once), so the caller can queue its agreement metrics.
pub(crate) async fn add_progress(conn: &mut PgConnection, job: Uuid, judged: i32, failed: i32) -> sqlx::Result<bool> {
    if judged == 0 && failed == 0 {
        return Ok(false);
    }
    let row: Option<(bool,)> = sqlx::query_as(
        "update judge_jobs set items_judged = items_judged + $2, items_failed = items_failed + $3,
             state = case when state = 'running' and items_judged + $2 + items_failed + $3 >= items_total
                          then 'scoring' else state end
         where id = $1
         returning state = 'scoring' and items_judged + items_failed = items_total
                   and items_judged - $2 + items_failed - $3 < items_total",
    )
    .bind(job)
    .bind(judged)
    .bind(failed)
    .fetch_optional(conn)
    .await?;
    Ok(row.is_some_and(|r| r.0))
}

/// Queues the agreement metrics of a job that just moved to `scoring`, with the job's trace context.
pub async fn queue_agreement(conn: &mut PgConnection, job: Uuid) -> sqlx::Result<()> {
    let traceparent: Option<String> =
        sqlx::query_scalar("select traceparent from judge_jobs where id = $1").bind(job).fetch_one(&mut *conn).await?;
    let task = protocol::AgreementTask { job_id: job };
    let message = protocol::Envelope::new(protocol::Route::to(protocol::WorkQueue::Agreement), &task);
    crate::outbox::enqueue(conn, &[message], traceparent.as_deref()).await
}
