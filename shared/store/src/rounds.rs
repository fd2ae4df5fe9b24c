//! Round rows: creation, reads, and the round-level saga transitions.

use serde::Serialize;
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Round {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub number: i32,
    pub state: String,
    pub paused: bool,
    pub version: i64,
    pub base_checkpoint_id: Uuid,
    pub result_checkpoint_id: Option<Uuid>,
    pub samples_per_prompt: i32,
    pub prompts_total: i32,
    pub sampling_done: i32,
    pub judging_done: i32,
    pub aggregating_done: i32,
    pub prompts_failed: i32,
    pub pairs_total: i32,
    pub failure_reason: Option<String>,
    pub traceparent: Option<String>,
    pub training_queued_at: Option<chrono::DateTime<chrono::Utc>>,
    pub evaluation_queued_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Round {
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "completed" | "failed" | "cancelled")
    }
}

const COLUMNS: &str = "id, campaign_id, number, state, paused, version, base_checkpoint_id, result_checkpoint_id, \
    samples_per_prompt, prompts_total, sampling_done, judging_done, aggregating_done, prompts_failed, pairs_total, \
    failure_reason, traceparent, training_queued_at, evaluation_queued_at, created_at, finished_at";

/// Creates round `number` of a campaign over every prompt of its dataset, in state `sampling` with
/// its prompts `new` (nothing published yet).
pub async fn create(
    conn: &mut PgConnection,
    campaign: Uuid,
    dataset: Uuid,
    number: i32,
    base_checkpoint: Uuid,
    samples_per_prompt: i32,
    paused: bool,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into rounds (id, campaign_id, number, base_checkpoint_id, samples_per_prompt, prompts_total, paused)
         values ($1, $2, $3, $4, $5, (select count(*) from prompts where dataset_id = $6 and kind = 'prompt'), $7)",
    )
    .bind(id)
    .bind(campaign)
    .bind(number)
    .bind(base_checkpoint)
    .bind(samples_per_prompt)
    .bind(dataset)
    .bind(paused)
    .execute(&mut *conn)
    .await?;
    sqlx::query("insert into round_prompts (round_id, prompt_id) select $1, id from prompts where dataset_id = $2 and kind = 'prompt'")
        .bind(id)
        .bind(dataset)
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Round>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from rounds where id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Locks the round row. Every saga transition and operator command on a round takes this lock before
/// any other row of the round or its campaign, so they serialize without deadlocking. `NO KEY UPDATE`
/// leaves the foreign-key checks of concurrent result inserts (which take `KEY SHARE`) unblocked.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Round>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from rounds where id = $1 for no key update")))
        .bind(id)
        .fetch_optional(conn)
        .await
}

pub async fn of_campaign(conn: &mut PgConnection, campaign: Uuid) -> sqlx::Result<Vec<Round>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from rounds where campaign_id = $1 order by number")))
        .bind(campaign)
        .fetch_all(conn)
        .await
}

pub async fn by_number(conn: &mut PgConnection, campaign: Uuid, number: i32) -> sqlx::Result<Option<Round>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("select {COLUMNS} from rounds where campaign_id = $1 and number = $2")))
        .bind(campaign)
        .bind(number)
        .fetch_optional(conn)
        .await
}

/// States of the given rounds, for workers deciding whether a task is still wanted.
pub async fn states(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("select id, state from rounds where id = any($1)").bind(ids).fetch_all(conn).await
}

/// Adds to the per-stage counters; returns the round afterwards (the row is locked by the caller).
pub async fn add_progress(
    conn: &mut PgConnection,
    id: Uuid,
    sampling: i32,
    judging: i32,
    aggregating: i32,
    failed: i32,
    pairs: i32,
) -> sqlx::Result<Round> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "update rounds set sampling_done = sampling_done + $2, judging_done = judging_done + $3,
                aggregating_done = aggregating_done + $4, prompts_failed = prompts_failed + $5,
                pairs_total = pairs_total + $6, version = version + 1
         where id = $1 returning {COLUMNS}"
    )))
    .bind(id)
    .bind(sampling)
    .bind(judging)
    .bind(aggregating)
    .bind(failed)
    .bind(pairs)
    .fetch_one(conn)
    .await
}

/// Moves the round from one of `from` to `to`; false when it was not in any of them.
pub async fn transition(conn: &mut PgConnection, id: Uuid, from: &[&str], to: &str) -> sqlx::Result<bool> {
    let from: Vec<String> = from.iter().map(|s| s.to_string()).collect();
    let done = sqlx::query(
        "update rounds set state = $3, version = version + 1,
                finished_at = case when $3 in ('completed', 'failed', 'cancelled') then now() else finished_at end
         where id = $1 and state = any($2)",
    )
    .bind(id)
    .bind(&from)
    .bind(to)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn fail(conn: &mut PgConnection, id: Uuid, reason: &str) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "update rounds set state = 'failed', failure_reason = $2, version = version + 1, finished_at = now()
         where id = $1 and state not in ('completed', 'failed', 'cancelled')",
    )
    .bind(id)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_paused(conn: &mut PgConnection, id: Uuid, paused: bool) -> sqlx::Result<()> {
    sqlx::query("update rounds set paused = $2, version = version + 1 where id = $1")
        .bind(id)
        .bind(paused)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_traceparent(conn: &mut PgConnection, id: Uuid, traceparent: Option<&str>) -> sqlx::Result<()> {
    sqlx::query("update rounds set traceparent = coalesce(traceparent, $2) where id = $1")
        .bind(id)
        .bind(traceparent)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_training_queued(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update rounds set training_queued_at = clock_timestamp() where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_evaluation_queued(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("update rounds set evaluation_queued_at = clock_timestamp() where id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_result(conn: &mut PgConnection, id: Uuid, checkpoint: Uuid) -> sqlx::Result<()> {
    sqlx::query("update rounds set result_checkpoint_id = $2 where id = $1")
        .bind(id)
        .bind(checkpoint)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a worker needs to know about the rounds of its batch.
#[derive(Debug, Clone)]
pub struct RoundContext {
    pub state: String,
    pub config: protocol::CampaignSpec,
    pub base_uri: String,
}

impl RoundContext {
    /// Tasks of failed or cancelled rounds are dropped instead of done.
    pub fn wanted(&self) -> bool {
        !matches!(self.state.as_str(), "failed" | "cancelled")
    }
}

pub async fn contexts(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<std::collections::HashMap<Uuid, RoundContext>> {
    let rows: Vec<(Uuid, String, sqlx::types::Json<protocol::CampaignSpec>, String)> = sqlx::query_as(
        "select r.id, r.state, c.config, k.uri from rounds r
         join campaigns c on c.id = r.campaign_id join checkpoints k on k.id = r.base_checkpoint_id
         where r.id = any($1)",
    )
    .bind(ids)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, state, config, base_uri)| (id, RoundContext { state, config: config.0, base_uri }))
        .collect())
}
