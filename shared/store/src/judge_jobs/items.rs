//! Item-level reads and writes of judge jobs: what a chunk still needs, the judging worker's results
//! (first write wins), failing a dead chunk's items, paging results out, and the metrics' inputs.

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

/// An item of a chunk with no result yet.
pub struct PendingItem {
    pub position: i32,
    pub item: serde_json::Value,
    pub template: String,
}

/// The job's critic and the chunk's unsettled items (none once the chunk is done); `None` for an
/// unknown job. A cancelled job's chunks already released still finish.
pub async fn pending_items(
    conn: &mut PgConnection,
    job: Uuid,
    chunk: u32,
) -> sqlx::Result<Option<(String, Vec<PendingItem>)>> {
    let critic: Option<String> =
        sqlx::query_scalar("select critic from judge_jobs where id = $1").bind(job).fetch_optional(&mut *conn).await?;
    let Some(critic) = critic else { return Ok(None) };
    let rows: Vec<(i32, serde_json::Value, String)> = sqlx::query_as(
        "select position, item, template from judge_items
         where job_id = $1 and chunk = $2 and judged_at is null and error is null order by position",
    )
    .bind(job)
    .bind(chunk as i32)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Some((
        critic,
        rows.into_iter().map(|(position, item, template)| PendingItem { position, item, template }).collect(),
    )))
}

/// The outcome of one item: a parsed (or unparsed) critic answer, or a permanent failure.
pub enum ItemResult {
    Judged { position: i32, verdict: serde_json::Value, score: Option<f64>, raw_output: String },
    Failed { position: i32, error: String },
}

/// Writes a chunk's results (items already settled are left alone), marks the chunk done when none
/// of its items is left, and counts the new results toward the job. Returns true when this write
/// finished the job (it is then `scoring`; queue its agreement task in the same transaction).
pub async fn record_results(
    conn: &mut PgConnection,
    job: Uuid,
    chunk: u32,
    results: &[ItemResult],
) -> sqlx::Result<bool> {
    let (mut pos, mut verdicts, mut scores, mut raws) = (vec![], vec![], vec![], vec![]);
    let (mut failed_pos, mut errors) = (vec![], vec![]);
    for r in results {
        match r {
            ItemResult::Judged { position, verdict, score, raw_output } => {
                pos.push(*position);
                verdicts.push(verdict);
                scores.push(*score);
                raws.push(raw_output.as_str());
            }
            ItemResult::Failed { position, error } => {
                failed_pos.push(*position);
                errors.push(error.as_str());
            }
        }
    }
    let judged = sqlx::query(
        "update judge_items i set verdict = u.v, score = u.s, raw_output = u.r, judged_at = now()
         from unnest($2::int[], $3::jsonb[], $4::float8[], $5::text[]) as u(p, v, s, r)
         where i.job_id = $1 and i.position = u.p and i.judged_at is null and i.error is null",
    )
    .bind(job)
    .bind(&pos)
    .bind(&verdicts)
    .bind(&scores)
    .bind(&raws)
    .execute(&mut *conn)
    .await?
    .rows_affected() as i32;
    let failed = sqlx::query(
        "update judge_items i set error = u.e, judged_at = now()
         from unnest($2::int[], $3::text[]) as u(p, e)
         where i.job_id = $1 and i.position = u.p and i.judged_at is null and i.error is null",
    )
    .bind(job)
    .bind(&failed_pos)
    .bind(&errors)
    .execute(&mut *conn)
    .await?
    .rows_affected() as i32;
    settle_chunk(conn, job, chunk).await?;
    super::add_progress(conn, job, judged, failed).await
}

/// Fails every unsettled item of a chunk that will not be retried (dead-lettered) with `reason`.
/// Returns true when this finished the job.
pub async fn fail_chunk(conn: &mut PgConnection, job: Uuid, chunk: u32, reason: &str) -> sqlx::Result<bool> {
    let failed = sqlx::query(
        "update judge_items set error = $3, judged_at = now()
         where job_id = $1 and chunk = $2 and judged_at is null and error is null",
    )
    .bind(job)
    .bind(chunk as i32)
    .bind(reason)
    .execute(&mut *conn)
    .await?
    .rows_affected() as i32;
    settle_chunk(conn, job, chunk).await?;
    super::add_progress(conn, job, 0, failed).await
}

/// Marks the chunk done (freeing its place in the dispatch window) once no item of it is unsettled.
async fn settle_chunk(conn: &mut PgConnection, job: Uuid, chunk: u32) -> sqlx::Result<()> {
    sqlx::query(
        "update judge_chunks set state = 'done', done_at = now()
         where job_id = $1 and chunk = $2 and state = 'dispatched'
           and not exists (select 1 from judge_items where job_id = $1 and chunk = $2
                           and judged_at is null and error is null)",
    )
    .bind(job)
    .bind(chunk as i32)
    .execute(conn)
    .await?;
    Ok(())
}

/// One line of a job's results.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct ResultRow {
    pub position: i32,
    pub item: serde_json::Value,
    pub template: String,
    pub verdict: Option<serde_json::Value>,
    pub score: Option<f64>,
    pub raw_output: Option<String>,
    pub error: Option<String>,
}

/// Results in submission order after `after` (exclusive), settled items only.
pub async fn results_page(conn: &mut PgConnection, job: Uuid, after: i32, limit: i64) -> sqlx::Result<Vec<ResultRow>> {
    sqlx::query_as(
        "select position, item, template, verdict, score, raw_output, error from judge_items
         where job_id = $1 and position > $2 and judged_at is not null order by position limit $3",
    )
    .bind(job)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// What agreement metrics need of each item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MetricRow {
    pub item: serde_json::Value,
    pub verdict: Option<serde_json::Value>,
    pub error: Option<String>,
}

pub async fn metric_rows(conn: &mut PgConnection, job: Uuid) -> sqlx::Result<Vec<MetricRow>> {
    sqlx::query_as("select item, verdict, error from judge_items where job_id = $1 order by position")
        .bind(job)
        .fetch_all(conn)
        .await
}

/// Stores the metrics and completes a `scoring` job. Returns false when it was not scoring (already
/// completed by an earlier delivery, or cancelled).
pub async fn set_metrics(conn: &mut PgConnection, job: Uuid, metrics: &serde_json::Value) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update judge_jobs set metrics = $2, state = 'completed', finished_at = now()
         where id = $1 and state = 'scoring'",
    )
    .bind(job)
    .bind(metrics)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
