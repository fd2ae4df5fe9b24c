use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct NewPrompt {
    pub question: String,
    pub image_ref: Option<String>,
    pub reference_answer: Option<String>,
}

pub async fn create(conn: &mut PgConnection, name: &str, prompts: &[NewPrompt]) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("insert into datasets (id, name) values ($1, $2)").bind(id).bind(name).execute(&mut *conn).await?;
    let ids: Vec<Uuid> = prompts.iter().map(|_| Uuid::now_v7()).collect();
    let positions: Vec<i32> = (0..prompts.len() as i32).collect();
    let questions: Vec<&str> = prompts.iter().map(|p| p.question.as_str()).collect();
    let images: Vec<Option<&str>> = prompts.iter().map(|p| p.image_ref.as_deref()).collect();
    let refs: Vec<Option<&str>> = prompts.iter().map(|p| p.reference_answer.as_deref()).collect();
    sqlx::query(
        "insert into prompts (id, dataset_id, position, question, image_ref, reference_answer)
         select u.id, $1, u.position, u.question, u.image_ref, u.reference_answer
         from unnest($2::uuid[], $3::int[], $4::text[], $5::text[], $6::text[])
              as u(id, position, question, image_ref, reference_answer)",
    )
    .bind(id)
    .bind(&ids)
    .bind(&positions)
    .bind(&questions)
    .bind(&images)
    .bind(&refs)
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct DatasetSummary {
    pub id: Uuid,
    pub name: String,
    /// Rows of kind `prompt`: what a campaign samples (critic-training rows are not counted).
    pub prompts: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

pub async fn get(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<DatasetSummary>> {
    sqlx::query_as(
        "select d.id, d.name, (select count(*) from prompts p where p.dataset_id = d.id and p.kind = 'prompt') as prompts, d.created_at
         from datasets d where d.id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn prompt_count(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar("select count(*) from prompts where dataset_id = $1 and kind = 'prompt'")
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Questions of the given prompts, with their ids.
pub async fn questions(conn: &mut PgConnection, ids: &[Uuid]) -> sqlx::Result<Vec<(Uuid, String)>> {
    sqlx::query_as("select id, question from prompts where id = any($1)").bind(ids).fetch_all(conn).await
}

/// Each prompt's question and image reference (bare sha256 hex), if it has one.
pub async fn questions_and_images(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> sqlx::Result<Vec<(Uuid, String, Option<String>)>> {
    sqlx::query_as("select id, question, image_ref from prompts where id = any($1)").bind(ids).fetch_all(conn).await
}

/// One row a checkpoint is evaluated on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvalRow {
    pub id: Uuid,
    pub question: String,
    /// Bare sha256 hex of the image artifact.
    pub image_ref: Option<String>,
    pub reference_answer: Option<String>,
    /// The record's other fields (ground truth, for a generated world).
    pub extra: Option<serde_json::Value>,
}

/// The prompts of a dataset in order, for evaluation.
pub async fn eval_rows(conn: &mut PgConnection, dataset: Uuid) -> sqlx::Result<Vec<EvalRow>> {
    sqlx::query_as(
        "select id, question, image_ref, reference_answer, extra from prompts
         where dataset_id = $1 and kind = 'prompt' order by position",
    )
    .bind(dataset)
    .fetch_all(conn)
    .await
}

/// What deleting a dataset did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deleted {
    /// The dataset, its rows and its import records are gone (`rows` rows).
    Deleted {
        rows: u64,
    },
    NotFound,
    /// Campaigns sample it (their ids, oldest first): nothing was deleted.
    InUse {
        campaigns: Vec<Uuid>,
    },
}

/// Deletes a dataset with its rows and import records unless a campaign uses it. The dataset row is locked
/// first, so a campaign created concurrently (its foreign key locks the row too) waits and then fails.
/// Images the rows referenced stay in the artifact store until a garbage collection finds them unreferenced.
pub async fn delete(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Deleted> {
    let found: Option<Uuid> = sqlx::query_scalar("select id from datasets where id = $1 for update")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    if found.is_none() {
        return Ok(Deleted::NotFound);
    }
    let campaigns: Vec<Uuid> = sqlx::query_scalar(
        "select id from campaigns where dataset_id = $1 or config->'evaluation'->>'dataset_id' = $1::text
         order by created_at",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    if !campaigns.is_empty() {
        return Ok(Deleted::InUse { campaigns });
    }
    let rows = sqlx::query("delete from prompts where dataset_id = $1").bind(id).execute(&mut *conn).await?;
    sqlx::query("delete from datasets where id = $1").bind(id).execute(&mut *conn).await?;
    Ok(Deleted::Deleted { rows: rows.rows_affected() })
}
