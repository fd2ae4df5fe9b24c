//! Result rows written by workers: samples, judgments, rewards and pairs. Every insert is keyed by its
//! natural key and ignores conflicts; callers learn which rows were new, and only those count.

use serde::Serialize;
use sqlx::PgConnection;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub struct NewSamples<'a> {
    pub round: Uuid,
    pub prompt: Uuid,
    pub responses: &'a [String],
}

/// Inserts samples of several prompts; returns the (round, prompt) keys that were newly written.
pub async fn insert_samples(conn: &mut PgConnection, batch: &[NewSamples<'_>]) -> sqlx::Result<BTreeSet<(Uuid, Uuid)>> {
    let (mut rounds, mut prompts, mut idx, mut texts) = (vec![], vec![], vec![], vec![]);
    for s in batch {
        for (i, text) in s.responses.iter().enumerate() {
            rounds.push(s.round);
            prompts.push(s.prompt);
            idx.push(i as i32);
            texts.push(crate::model_text::text(text));
        }
    }
    let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "insert into samples (round_id, prompt_id, sample_index, response)
         select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[])
         on conflict do nothing returning round_id, prompt_id",
    )
    .bind(&rounds)
    .bind(&prompts)
    .bind(&idx)
    .bind(&texts)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// Prompt question and sample texts for the judge tasks of a batch, keyed by (round, prompt, index).
pub struct JudgeInputs {
    pub questions: HashMap<(Uuid, Uuid), String>,
    /// The prompts' image references (bare sha256 hex), for those that have one.
    pub images: HashMap<(Uuid, Uuid), String>,
    /// The prompts' ground truth (`extra.world`: a generated world's record), for those that have one.
    pub truths: HashMap<(Uuid, Uuid), serde_json::Value>,
    pub samples: HashMap<(Uuid, Uuid, i32), String>,
    /// Pairs already judged (a redelivered task skips them instead of calling the critic again).
    pub judged: std::collections::HashSet<(Uuid, Uuid, i32, i32)>,
}

pub async fn judge_inputs(conn: &mut PgConnection, keys: &[(Uuid, Uuid)]) -> sqlx::Result<JudgeInputs> {
    let rounds: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let prompts: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    let samples: Vec<(Uuid, Uuid, i32, String)> = sqlx::query_as(
        "select s.round_id, s.prompt_id, s.sample_index, s.response
         from samples s join (select distinct * from unnest($1::uuid[], $2::uuid[])) as u(r, p)
           on s.round_id = u.r and s.prompt_id = u.p",
    )
    .bind(&rounds)
    .bind(&prompts)
    .fetch_all(&mut *conn)
    .await?;
    // (round, prompt, question, image, ground truth)
    type Question = (Uuid, Uuid, String, Option<String>, Option<serde_json::Value>);
    let questions: Vec<Question> = sqlx::query_as(
        "select u.r, p.id, p.question, p.image_ref, p.extra -> 'world' from prompts p
         join (select distinct * from unnest($1::uuid[], $2::uuid[])) as u(r, p) on p.id = u.p",
    )
    .bind(&rounds)
    .bind(&prompts)
    .fetch_all(&mut *conn)
    .await?;
    let judged: Vec<(Uuid, Uuid, i32, i32)> = sqlx::query_as(
        "select j.round_id, j.prompt_id, j.i, j.j from judgments j
         join (select distinct * from unnest($1::uuid[], $2::uuid[])) as u(r, p) on j.round_id = u.r and j.prompt_id = u.p",
    )
    .bind(&rounds)
    .bind(&prompts)
    .fetch_all(conn)
    .await?;
    Ok(JudgeInputs {
        images: questions.iter().filter_map(|(r, p, _, i, _)| Some(((*r, *p), i.clone()?))).collect(),
        truths: questions.iter().filter_map(|(r, p, _, _, t)| Some(((*r, *p), t.clone()?))).collect(),
        questions: questions.into_iter().map(|(r, p, q, _, _)| ((r, p), q)).collect(),
        samples: samples.into_iter().map(|(r, p, i, t)| ((r, p, i), t)).collect(),
        judged: judged.into_iter().collect(),
    })
}

pub struct NewJudgment {
    pub round: Uuid,
    pub prompt: Uuid,
    pub i: i32,
    pub j: i32,
    pub verdict: serde_json::Value,
    pub score: Option<f64>,
    pub raw_output: String,
}

/// Inserts judgments; returns, per (round, prompt), how many of them were new.
pub async fn insert_judgments(conn: &mut PgConnection, batch: &[NewJudgment]) -> sqlx::Result<Vec<(Uuid, Uuid, i32)>> {
    let rounds: Vec<Uuid> = batch.iter().map(|j| j.round).collect();
    let prompts: Vec<Uuid> = batch.iter().map(|j| j.prompt).collect();
    let is: Vec<i32> = batch.iter().map(|j| j.i).collect();
    let js: Vec<i32> = batch.iter().map(|j| j.j).collect();
    let verdicts: Vec<serde_json::Value> = batch.iter().map(|j| crate::model_text::json(&j.verdict)).collect();
    let scores: Vec<Option<f64>> = batch.iter().map(|j| j.score).collect();
    let raws: Vec<Cow<'_, str>> = batch.iter().map(|j| crate::model_text::text(&j.raw_output)).collect();
    sqlx::query_as(
        "with new as (
           insert into judgments (round_id, prompt_id, i, j, verdict, score, raw_output)
           select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::jsonb[], $6::float8[], $7::text[])
           on conflict do nothing returning round_id, prompt_id)
         select round_id, prompt_id, count(*)::int from new group by round_id, prompt_id",
    )
    .bind(&rounds)
    .bind(&prompts)
    .bind(&is)
    .bind(&js)
    .bind(&verdicts)
    .bind(&scores)
    .bind(&raws)
    .fetch_all(conn)
    .await
}

/// (i, j, a_ij) of each judged ordered pair; a_ij is None for unparsed verdicts.
pub type PairScores = Vec<(i32, i32, Option<f64>)>;

/// The scores of each given (round, prompt).
pub async fn scores_of(
    conn: &mut PgConnection,
    keys: &[(Uuid, Uuid)],
) -> sqlx::Result<HashMap<(Uuid, Uuid), PairScores>> {
    let rounds: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let prompts: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    let rows: Vec<(Uuid, Uuid, i32, i32, Option<f64>)> = sqlx::query_as(
        "select j.round_id, j.prompt_id, j.i, j.j, j.score from judgments j
         join (select distinct * from unnest($1::uuid[], $2::uuid[])) as u(r, p)
           on j.round_id = u.r and j.prompt_id = u.p
         order by j.round_id, j.prompt_id, j.i, j.j",
    )
    .bind(&rounds)
    .bind(&prompts)
    .fetch_all(conn)
    .await?;
    let mut out: HashMap<(Uuid, Uuid), PairScores> = HashMap::new();
    for (r, p, i, j, a) in rows {
        out.entry((r, p)).or_default().push((i, j, a));
    }
    Ok(out)
}

pub struct PairRow {
    pub chosen: i32,
    pub rejected: i32,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

/// One prompt's aggregation: its rewards r_i and its pair, if any.
pub struct NewRewards {
    pub round: Uuid,
    pub prompt: Uuid,
    pub rewards: Vec<f64>,
    pub pair: Option<PairRow>,
}

/// Writes rewards and pairs of several prompts; returns the (round, prompt) keys written for the
/// first time (a prompt already aggregated is left as it was).
pub async fn insert_rewards(conn: &mut PgConnection, batch: &[NewRewards]) -> sqlx::Result<BTreeSet<(Uuid, Uuid)>> {
    let (mut rounds, mut prompts, mut idx, mut values) = (vec![], vec![], vec![], vec![]);
    for b in batch {
        for (i, r) in b.rewards.iter().enumerate() {
            rounds.push(b.round);
            prompts.push(b.prompt);
            idx.push(i as i32);
            values.push(*r);
        }
    }
    let fresh: Vec<(Uuid, Uuid)> = sqlx::query_as(
        "insert into rewards (round_id, prompt_id, sample_index, reward)
         select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::float8[])
         on conflict do nothing returning round_id, prompt_id",
    )
    .bind(&rounds)
    .bind(&prompts)
    .bind(&idx)
    .bind(&values)
    .fetch_all(&mut *conn)
    .await?;
    let fresh: BTreeSet<(Uuid, Uuid)> = fresh.into_iter().collect();
    let pairs: Vec<(&NewRewards, &PairRow)> = batch
        .iter()
        .filter(|b| fresh.contains(&(b.round, b.prompt)))
        .filter_map(|b| b.pair.as_ref().map(|p| (b, p)))
        .collect();
    if !pairs.is_empty() {
        sqlx::query(
            "insert into pairs (round_id, prompt_id, chosen_index, rejected_index, chosen_reward, rejected_reward)
             select * from unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::float8[], $6::float8[])
             on conflict do nothing",
        )
        .bind(pairs.iter().map(|(b, _)| b.round).collect::<Vec<_>>())
        .bind(pairs.iter().map(|(b, _)| b.prompt).collect::<Vec<_>>())
        .bind(pairs.iter().map(|(_, p)| p.chosen).collect::<Vec<_>>())
        .bind(pairs.iter().map(|(_, p)| p.rejected).collect::<Vec<_>>())
        .bind(pairs.iter().map(|(_, p)| p.chosen_reward).collect::<Vec<_>>())
        .bind(pairs.iter().map(|(_, p)| p.rejected_reward).collect::<Vec<_>>())
        .execute(conn)
        .await?;
    }
    Ok(fresh)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ExportedPair {
    pub prompt_id: Uuid,
    pub question: String,
    pub image: Option<String>,
    pub chosen: String,
    pub rejected: String,
    pub chosen_reward: f64,
    pub rejected_reward: f64,
}

pub async fn pairs_of_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<Vec<ExportedPair>> {
    sqlx::query_as(
        "select p.prompt_id, q.question, q.image_ref as image, c.response as chosen, r.response as rejected,
                p.chosen_reward, p.rejected_reward
         from pairs p
         join prompts q on q.id = p.prompt_id
         join samples c on c.round_id = p.round_id and c.prompt_id = p.prompt_id and c.sample_index = p.chosen_index
         join samples r on r.round_id = p.round_id and r.prompt_id = p.prompt_id and r.sample_index = p.rejected_index
         where p.round_id = $1 order by q.position",
    )
    .bind(round)
    .fetch_all(conn)
    .await
}

/// One stored critic judgment of an ordered pair (y_i shown first, y_j second), with the prompt and both
/// responses: what the judgments export serves.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ExportedJudgment {
    pub prompt_id: Uuid,
    pub question: String,
    pub image: Option<String>,
    pub i: i32,
    pub j: i32,
    pub first: String,
    pub second: String,
    /// `critic::Parsed` as stored: a verdict, or unparsed with its reason.
    pub verdict: sqlx::types::Json<serde_json::Value>,
    pub score: Option<f64>,
    pub raw_output: String,
}

pub async fn judgments_of_round(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<Vec<ExportedJudgment>> {
    sqlx::query_as(
        "select j.prompt_id, q.question, q.image_ref as image, j.i, j.j, a.response as first, b.response as second,
                j.verdict, j.score, j.raw_output
         from judgments j
         join prompts q on q.id = j.prompt_id
         join samples a on a.round_id = j.round_id and a.prompt_id = j.prompt_id and a.sample_index = j.i
         join samples b on b.round_id = j.round_id and b.prompt_id = j.prompt_id and b.sample_index = j.j
         where j.round_id = $1 order by q.position, j.i, j.j",
    )
    .bind(round)
    .fetch_all(conn)
    .await
}

#[derive(Debug, Clone, Default, sqlx::FromRow, Serialize)]
pub struct RoundCounts {
    pub samples: i64,
    pub judgments: i64,
    pub unparsed_judgments: i64,
    pub pairs: i64,
}

pub async fn counts(conn: &mut PgConnection, round: Uuid) -> sqlx::Result<RoundCounts> {
    sqlx::query_as(
        "select (select count(*) from samples where round_id = $1) as samples,
                (select count(*) from judgments where round_id = $1) as judgments,
                (select count(*) from judgments where round_id = $1 and score is null) as unparsed_judgments,
                (select count(*) from pairs where round_id = $1) as pairs",
    )
    .bind(round)
    .fetch_one(conn)
    .await
}

pub async fn insert_evaluation(
    conn: &mut PgConnection,
    checkpoint: Uuid,
    round: Uuid,
    suite: &str,
    metrics: &serde_json::Value,
) -> sqlx::Result<bool> {
    let metrics = crate::model_text::json(metrics);
    let done = sqlx::query(
        "insert into evaluations (checkpoint_id, round_id, suite, metrics) values ($1, $2, $3, $4)
         on conflict do nothing",
    )
    .bind(checkpoint)
    .bind(round)
    .bind(suite)
    .bind(&metrics)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn evaluations_of(
    conn: &mut PgConnection,
    checkpoint: Uuid,
) -> sqlx::Result<Vec<(String, serde_json::Value)>> {
    sqlx::query_as("select suite, metrics from evaluations where checkpoint_id = $1 order by suite")
        .bind(checkpoint)
        .fetch_all(conn)
        .await
}
