//! Task failures: every failed attempt is recorded with its error; a task that will not be retried
//! any more is marked dead with the reason.

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

pub struct FailedTask<'a> {
    pub key: &'a str,
    pub stage: &'a str,
    pub round: Option<Uuid>,
    pub prompt: Option<Uuid>,
    pub job: Option<Uuid>,
}

impl<'a> FailedTask<'a> {
    /// The failure record of `task`, whose natural key is `key` (`task.key()`).
    pub fn of(task: &'a protocol::Task, key: &'a str) -> Self {
        Self { key, stage: task.stage(), round: task.round_id(), prompt: task.prompt_id(), job: task.job_id() }
    }
}

/// Records one failed attempt; returns the attempts so far.
pub async fn record_attempt(conn: &mut PgConnection, task: &FailedTask<'_>, error: &str) -> sqlx::Result<i32> {
    sqlx::query_scalar(
        "insert into task_failures (task_key, stage, round_id, prompt_id, attempts, last_error, job_id)
         values ($1, $2, $3, $4, 1, $5, $6)
         on conflict (task_key) do update set attempts = task_failures.attempts + 1, last_error = $5,
             updated_at = now()
         returning attempts",
    )
    .bind(task.key)
    .bind(task.stage)
    .bind(task.round)
    .bind(task.prompt)
    .bind(error)
    .bind(task.job)
    .fetch_one(conn)
    .await
}

/// The error of the task's last failed attempt, if one was recorded.
pub async fn last_error(conn: &mut PgConnection, key: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select last_error from task_failures where task_key = $1").bind(key).fetch_optional(conn).await
}

/// Marks the task dead; returns (newly dead?, the last recorded error).
pub async fn mark_dead(conn: &mut PgConnection, task: &FailedTask<'_>, reason: &str) -> sqlx::Result<(bool, String)> {
    let before: Option<(bool, String)> =
        sqlx::query_as("select dead, last_error from task_failures where task_key = $1 for update")
            .bind(task.key)
            .fetch_optional(&mut *conn)
            .await?;
    match before {
        Some((true, last)) => Ok((false, last)),
        Some((false, last)) => {
            sqlx::query(
                "update task_failures set dead = true, dead_reason = $2, updated_at = now() where task_key = $1",
            )
            .bind(task.key)
            .bind(reason)
            .execute(conn)
            .await?;
            Ok((true, last))
        }
        None => {
            sqlx::query(
                "insert into task_failures
                     (task_key, stage, round_id, prompt_id, attempts, last_error, dead, dead_reason, job_id)
                 values ($1, $2, $3, $4, 0, $5, true, $5, $6)",
            )
            .bind(task.key)
            .bind(task.stage)
            .bind(task.round)
            .bind(task.prompt)
            .bind(reason)
            .bind(task.job)
            .execute(conn)
            .await?;
            Ok((true, reason.to_string()))
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Failure {
    pub task_key: String,
    pub stage: String,
    pub prompt_id: Option<Uuid>,
    pub attempts: i32,
    pub last_error: String,
    pub dead: bool,
    pub dead_reason: Option<String>,
}

pub async fn of_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<Vec<Failure>> {
    sqlx::query_as(
        "select task_key, stage, prompt_id, attempts, last_error, dead, dead_reason from task_failures
         where round_id = $1 order by task_key",
    )
    .bind(round)
    .fetch_all(conn)
    .await
}

/// Failures of a judge job's chunks.
pub async fn of_job(conn: &mut PgConnection, job: Uuid) -> sqlx::Result<Vec<Failure>> {
    sqlx::query_as(
        "select task_key, stage, prompt_id, attempts, last_error, dead, dead_reason from task_failures
         where job_id = $1 order by task_key",
    )
    .bind(job)
    .fetch_all(conn)
    .await
}
