//! Counting the way RabbitMQ's Jepsen checker does: the keys that must exist (expected) against the
//! rows that do, with duplicated effects counted separately.

use sqlx::PgPool;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub expected: i64,
    pub present: i64,
    pub lost: i64,
    pub unexpected: i64,
    pub duplicated: i64,
}

/// Judgments of a round: expected = every ordered pair of every prompt's K samples.
pub async fn judgments(pool: &PgPool, round: &str) -> anyhow::Result<Tally> {
    let round: uuid::Uuid = round.parse()?;
    let (expected, present, lost, unexpected): (i64, i64, i64, i64) = sqlx::query_as(
        "with k as (select samples_per_prompt as k from rounds where id = $1),
              expected as (select rp.prompt_id, i, j from round_prompts rp, k,
                             generate_series(0, k.k - 1) i, generate_series(0, k.k - 1) j
                           where rp.round_id = $1 and i <> j),
              actual as (select prompt_id, i, j from judgments where round_id = $1)
         select (select count(*) from expected), (select count(*) from actual),
                (select count(*) from expected e where not exists
                   (select 1 from actual a where a.prompt_id = e.prompt_id and a.i = e.i and a.j = e.j)),
                (select count(*) from actual a where not exists
                   (select 1 from expected e where a.prompt_id = e.prompt_id and a.i = e.i and a.j = e.j))",
    )
    .bind(round)
    .fetch_one(pool)
    .await?;
    // Duplicated effects: a judgment counted more than once toward its prompt's completion, or a
    // prompt whose completion was signalled (aggregated) more than once.
    let duplicated: i64 = sqlx::query_scalar(
        "select count(*) from round_prompts rp join rounds r on r.id = rp.round_id
         where rp.round_id = $1 and rp.judgments_done <> (select count(*) from judgments j
               where j.round_id = rp.round_id and j.prompt_id = rp.prompt_id)",
    )
    .bind(round)
    .fetch_one(pool)
    .await?;
    Ok(Tally { expected, present, lost, unexpected, duplicated })
}

/// Rows that must be one per prompt (samples per prompt = K, one reward set, at most one pair).
pub async fn per_prompt_duplicates(pool: &PgPool, round: &str) -> anyhow::Result<i64> {
    let round: uuid::Uuid = round.parse()?;
    Ok(sqlx::query_scalar(
        "select (select count(*) from (select prompt_id from samples where round_id = $1 group by prompt_id
                  having count(*) <> (select samples_per_prompt from rounds where id = $1)) s)
              + (select count(*) from (select prompt_id from rewards where round_id = $1 group by prompt_id
                  having count(*) <> (select samples_per_prompt from rounds where id = $1)) r)",
    )
    .bind(round)
    .fetch_one(pool)
    .await?)
}
