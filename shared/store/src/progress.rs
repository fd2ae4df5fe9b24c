//! Per-prompt progress (`round_prompts`): the idempotency gate of the saga. Every transition is a
//! conditional update from an expected state, so a duplicated event finds nothing to change.

use sqlx::PgConnection;
use uuid::Uuid;

/// Moves every prompt of a round in `from` to `to`, returning the prompts moved.
pub async fn transition_all(conn: &mut PgConnection, round: Uuid, from: &str, to: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("update round_prompts set state = $3 where round_id = $1 and state = $2 returning prompt_id")
        .bind(round)
        .bind(from)
        .bind(to)
        .fetch_all(conn)
        .await
}

/// Marks a prompt failed; returns the state it was in, or None if it had already finished or failed.
pub async fn fail(conn: &mut PgConnection, round: Uuid, prompt: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "update round_prompts rp set state = 'failed'
         from (select state from round_prompts where round_id = $1 and prompt_id = $2 for update) old
         where rp.round_id = $1 and rp.prompt_id = $2 and rp.state not in ('aggregated', 'failed')
         returning old.state",
    )
    .bind(round)
    .bind(prompt)
    .fetch_optional(conn)
    .await
}

/// Adds judgments to prompts' counters (rows locked in key order to avoid deadlocks between batches)
/// and returns the prompts whose count reached `expected` with this call.
pub async fn add_judgments(
    conn: &mut PgConnection,
    round_prompt_counts: &[(Uuid, Uuid, i32)],
) -> sqlx::Result<Vec<(Uuid, Uuid)>> {
    let mut sorted = round_prompt_counts.to_vec();
    sorted.sort();
    let rounds: Vec<Uuid> = sorted.iter().map(|c| c.0).collect();
    let prompts: Vec<Uuid> = sorted.iter().map(|c| c.1).collect();
    let counts: Vec<i32> = sorted.iter().map(|c| c.2).collect();
    sqlx::query(
        "select 1 from round_prompts rp join unnest($1::uuid[], $2::uuid[]) as u(r, p)
           on rp.round_id = u.r and rp.prompt_id = u.p
         order by rp.round_id, rp.prompt_id for update of rp",
    )
    .bind(&rounds)
    .bind(&prompts)
    .execute(&mut *conn)
    .await?;
    let rows: Vec<(Uuid, Uuid, bool)> = sqlx::query_as(
        "update round_prompts rp set judgments_done = rp.judgments_done + u.n
         from unnest($1::uuid[], $2::uuid[], $3::int[]) as u(r, p, n), rounds r
         where rp.round_id = u.r and rp.prompt_id = u.p and r.id = u.r
         returning rp.round_id, rp.prompt_id,
           rp.judgments_done >= r.samples_per_prompt * (r.samples_per_prompt - 1)
           and rp.judgments_done - u.n < r.samples_per_prompt * (r.samples_per_prompt - 1)",
    )
    .bind(&rounds)
    .bind(&prompts)
    .bind(&counts)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().filter(|r| r.2).map(|r| (r.0, r.1)).collect())
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PromptStates {
    pub by_state: std::collections::BTreeMap<String, i64>,
}

pub async fn states(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<PromptStates> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("select state, count(*) from round_prompts where round_id = $1 group by state")
            .bind(round)
            .fetch_all(conn)
            .await?;
    Ok(PromptStates { by_state: rows.into_iter().collect() })
}

/// Moves the given prompts of a round from `from` to `to`; returns those that moved.
pub async fn transition_many(
    conn: &mut PgConnection,
    round: Uuid,
    prompts: &[Uuid],
    from: &str,
    to: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "update round_prompts set state = $4 where round_id = $1 and prompt_id = any($2) and state = $3
         returning prompt_id",
    )
    .bind(round)
    .bind(prompts)
    .bind(from)
    .bind(to)
    .fetch_all(conn)
    .await
}
