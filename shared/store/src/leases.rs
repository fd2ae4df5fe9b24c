//! Leases for long tasks. A worker claims a task's lease, acknowledges the message, and heartbeats
//! while it works; the lease reaper republishes tasks whose lease expired before completion.

use sqlx::PgConnection;

pub enum Claim {
    /// This worker holds the lease now (`attempt` counts takeovers).
    Acquired { attempt: i32 },
    /// Another live worker holds it.
    HeldElsewhere { owner: String },
    /// The task is already done.
    Completed,
}

/// Claims the lease of `key` for `owner`, or takes it over if it expired.
pub async fn claim(
    conn: &mut PgConnection,
    key: &str,
    owner: &str,
    ttl_ms: i64,
    message: &serde_json::Value,
    traceparent: Option<&str>,
) -> sqlx::Result<Claim> {
    let row: Option<(String, i32, bool)> = sqlx::query_as(
        "insert into task_leases (task_key, owner, message, traceparent, expires_at)
         values ($1, $2, $3, $5, clock_timestamp() + make_interval(secs => $4::float8 / 1000))
         on conflict (task_key) do update
           set owner = excluded.owner, attempt = task_leases.attempt + 1,
               claimed_at = clock_timestamp(), heartbeat_at = clock_timestamp(), expires_at = excluded.expires_at
           where task_leases.completed_at is null
             and (task_leases.expires_at < clock_timestamp() or task_leases.owner = excluded.owner
                  or task_leases.owner = '')
         returning owner, attempt, completed_at is not null",
    )
    .bind(key)
    .bind(owner)
    .bind(message)
    .bind(ttl_ms as f64)
    .bind(traceparent)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((_, attempt, _)) = row {
        return Ok(Claim::Acquired { attempt });
    }
    let (holder, completed): (String, bool) =
        sqlx::query_as("select owner, completed_at is not null from task_leases where task_key = $1")
            .bind(key)
            .fetch_one(conn)
            .await?;
    Ok(if completed { Claim::Completed } else { Claim::HeldElsewhere { owner: holder } })
}

/// Extends the lease; false when this owner lost it.
pub async fn heartbeat(conn: &mut PgConnection, key: &str, owner: &str, ttl_ms: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update task_leases set heartbeat_at = clock_timestamp(),
                expires_at = clock_timestamp() + make_interval(secs => $3::float8 / 1000)
         where task_key = $1 and owner = $2 and completed_at is null",
    )
    .bind(key)
    .bind(owner)
    .bind(ttl_ms as f64)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Completes the lease in the transaction that commits the task's result; false when another owner
/// took it over (the caller then rolls back).
pub async fn complete(conn: &mut PgConnection, key: &str, owner: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update task_leases set completed_at = clock_timestamp() where task_key = $1 and owner = $2 and completed_at is null",
    )
    .bind(key)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Expired, unfinished leases: (key, message, traceparent). The reaper republishes them and pushes
/// their expiry forward so they are not republished again before a worker claims them.
pub async fn take_expired(
    conn: &mut PgConnection,
    grace_ms: i64,
) -> sqlx::Result<Vec<(String, serde_json::Value, Option<String>)>> {
    sqlx::query_as(
        "update task_leases set owner = '', expires_at = clock_timestamp() + make_interval(secs => $1::float8 / 1000)
         where task_key in (select task_key from task_leases
                            where completed_at is null and expires_at < clock_timestamp() for update skip locked)
         returning task_key, message, traceparent",
    )
    .bind(grace_ms as f64)
    .fetch_all(conn)
    .await
}

/// Gives the lease up at once (after a failed attempt), so the reaper republishes the task soon.
pub async fn release(conn: &mut PgConnection, key: &str, owner: &str) -> sqlx::Result<()> {
    sqlx::query(
        "update task_leases set owner = '', expires_at = clock_timestamp() where task_key = $1 and owner = $2 and completed_at is null",
    )
    .bind(key)
    .bind(owner)
    .execute(conn)
    .await?;
    Ok(())
}

/// Completes a lease regardless of owner (a task that died for good).
pub async fn close(conn: &mut PgConnection, key: &str) -> sqlx::Result<()> {
    sqlx::query("update task_leases set completed_at = clock_timestamp() where task_key = $1 and completed_at is null")
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
