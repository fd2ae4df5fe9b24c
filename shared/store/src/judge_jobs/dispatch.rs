//! Releasing judge-job chunks by stride scheduling: each running job has a `pass`; the job with the
//! lowest pass gets the next chunk and its pass grows by its stride, 2^(9 - priority). So a job of
//! priority p gets twice the share of one of priority p - 1 while both wait, and every job keeps a
//! share. A job that arrives starts at the lowest pass of the jobs already running, neither ahead of
//! them nor owed the past. Only `window` chunks are in flight at once across all jobs, so the broker
//! never holds a deep backlog that a new, more urgent job would have to wait behind.

use sqlx::PgConnection;
use uuid::Uuid;

/// A chunk released for judging (its message goes into the outbox in the same transaction).
#[derive(Debug, Clone, PartialEq)]
pub struct Released {
    pub job: Uuid,
    pub chunk: u32,
    pub traceparent: Option<String>,
}

/// One dispatcher at a time (several orchestrator replicas may run).
const DISPATCH_LOCK: i64 = 0x6a75_6467_655f_6a62; // "judge_jb"

struct Candidate {
    id: Uuid,
    stride: f64,
    pass: Option<f64>,
    next: i32,
    total: i32,
    traceparent: Option<String>,
    touched: bool,
}

/// id, priority, pass, chunks released, chunks in all, traceparent
type JobRow = (Uuid, i16, Option<f64>, i32, i32, Option<String>);

pub fn stride(priority: i16) -> f64 {
    2f64.powi(9 - i32::from(priority.clamp(0, 9)))
}

/// Releases up to `window` minus the chunks in flight. Call inside a transaction.
pub async fn release(conn: &mut PgConnection, window: u32) -> sqlx::Result<Vec<Released>> {
    sqlx::query("select pg_advisory_xact_lock($1)").bind(DISPATCH_LOCK).execute(&mut *conn).await?;
    let in_flight: i64 = sqlx::query_scalar("select count(*) from judge_chunks where state = 'dispatched'")
        .fetch_one(&mut *conn)
        .await?;
    let free = i64::from(window) - in_flight;
    if free <= 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<JobRow> = sqlx::query_as(
        "select id, priority, pass, chunks_dispatched, chunks_total, traceparent from judge_jobs
         where state = 'running' and chunks_dispatched < chunks_total
         order by created_at, id",
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut jobs: Vec<Candidate> = rows
        .into_iter()
        .map(|(id, priority, pass, next, total, traceparent)| Candidate {
            id,
            stride: stride(priority),
            pass,
            next,
            total,
            traceparent,
            touched: false,
        })
        .collect();
    let start = jobs.iter().filter_map(|j| j.pass).reduce(f64::min).unwrap_or(0.0);
    for job in jobs.iter_mut().filter(|j| j.pass.is_none()) {
        job.pass = Some(start);
    }

    let mut released = Vec::new();
    for _ in 0..free {
        // lowest pass first; ties go to the older job (the order of `jobs`)
        let Some(job) = jobs
            .iter_mut()
            .filter(|j| j.next < j.total)
            .min_by(|a, b| a.pass.unwrap_or(0.0).total_cmp(&b.pass.unwrap_or(0.0)))
        else {
            break;
        };
        released.push(Released { job: job.id, chunk: job.next as u32, traceparent: job.traceparent.clone() });
        job.next += 1;
        job.pass = Some(job.pass.unwrap_or(0.0) + job.stride);
        job.touched = true;
    }

    let touched: Vec<&Candidate> = jobs.iter().filter(|j| j.touched).collect();
    let ids: Vec<Uuid> = touched.iter().map(|j| j.id).collect();
    let passes: Vec<f64> = touched.iter().map(|j| j.pass.unwrap_or(0.0)).collect();
    let next: Vec<i32> = touched.iter().map(|j| j.next).collect();
    sqlx::query(
        "update judge_jobs j set pass = u.pass, chunks_dispatched = u.next
         from unnest($1::uuid[], $2::float8[], $3::int[]) as u(id, pass, next) where j.id = u.id",
    )
    .bind(&ids)
    .bind(&passes)
    .bind(&next)
    .execute(&mut *conn)
    .await?;
    let chunk_jobs: Vec<Uuid> = released.iter().map(|r| r.job).collect();
    let chunks: Vec<i32> = released.iter().map(|r| r.chunk as i32).collect();
    sqlx::query(
        "insert into judge_chunks (job_id, chunk, dispatched_at)
         select j, c, now() from unnest($1::uuid[], $2::int[]) as u(j, c) on conflict do nothing",
    )
    .bind(&chunk_jobs)
    .bind(&chunks)
    .execute(&mut *conn)
    .await?;
    Ok(released)
}

#[cfg(test)]
mod tests {
    #[test]
    fn each_priority_step_doubles_the_share() {
        assert_eq!(super::stride(9), 1.0);
        assert_eq!(super::stride(8), 2.0);
        assert_eq!(super::stride(0), 512.0);
    }
}
