//! Imported datasets: rows keyed by `(dataset, kind, external id)` so that a re-import inserts nothing,
//! the record of each import (`dataset_imports`), listing, per-kind counts and a paged export.
//! Image references are bare 64-hex sha256 digests in `prompts.image_ref`, as for inline prompts.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// One imported row, as the API's row sink hands it over.
#[derive(Debug, Clone)]
pub struct ImportedRow {
    pub external_id: String,
    /// `prompt`, `critic_pointwise` or `critic_pairwise`.
    pub kind: String,
    pub source: Option<String>,
    /// The first human turn (the policy's question for `prompt` rows).
    pub question: String,
    pub conversations: Value,
    /// Bare 64-hex sha256 of the image artifact.
    pub image_ref: Option<String>,
    pub image_meta: Option<Value>,
    pub extra: Value,
}

/// Creates an empty dataset.
pub async fn create_dataset(conn: &mut PgConnection, name: &str) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    sqlx::query("insert into datasets (id, name) values ($1, $2)").bind(id).bind(name).execute(&mut *conn).await?;
    Ok(id)
}

/// Locks a dataset for an import into it (imports into one dataset take positions one at a time);
/// `false` if it does not exist.
pub async fn lock_dataset(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<bool> {
    let found: Option<Uuid> = sqlx::query_scalar("select id from datasets where id = $1 for no key update")
        .bind(id)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// The dataset named `name` that already holds an import of this file (content digest and kind), if any:
/// importing the same file under the same name again lands in the same dataset.
pub async fn find_by_import(
    conn: &mut PgConnection,
    name: &str,
    file_digest: &str,
    kind: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "select d.id from datasets d join dataset_imports i on i.dataset_id = d.id
         where d.name = $1 and i.file_digest = $2 and i.kind = $3 order by i.created_at limit 1",
    )
    .bind(name)
    .bind(file_digest)
    .bind(kind)
    .fetch_optional(conn)
    .await
}

/// Inserts the rows that are not in the dataset yet (by kind and external id; the first of duplicates in
/// one batch wins), after the dataset's last position. Returns how many were new.
pub async fn insert_rows(conn: &mut PgConnection, dataset: Uuid, rows: &[ImportedRow]) -> sqlx::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|_| Uuid::now_v7()).collect();
    let external: Vec<&str> = rows.iter().map(|r| r.external_id.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    let sources: Vec<Option<&str>> = rows.iter().map(|r| r.source.as_deref()).collect();
    let questions: Vec<&str> = rows.iter().map(|r| r.question.as_str()).collect();
    let conversations: Vec<&Value> = rows.iter().map(|r| &r.conversations).collect();
    let images: Vec<Option<&str>> = rows.iter().map(|r| r.image_ref.as_deref()).collect();
    let metas: Vec<Option<&Value>> = rows.iter().map(|r| r.image_meta.as_ref()).collect();
    let extras: Vec<&Value> = rows.iter().map(|r| &r.extra).collect();
    let done = sqlx::query(
        "with input as (
             select * from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::jsonb[],
                                  $8::text[], $9::jsonb[], $10::jsonb[])
                 with ordinality as u(id, external_id, kind, source, question, conversations, image_ref,
                                      image_meta, extra, ord)
         ), base as (
             select coalesce(max(position), -1) as last from prompts where dataset_id = $1
         )
         insert into prompts (id, dataset_id, position, question, image_ref, kind, external_id, source,
                              conversations, image_meta, extra)
         select i.id, $1, base.last + i.ord::int, i.question, i.image_ref, i.kind, i.external_id, i.source,
                i.conversations, i.image_meta, i.extra
         from input i cross join base
         order by i.ord
         on conflict (dataset_id, kind, external_id) do nothing",
    )
    .bind(dataset)
    .bind(&ids)
    .bind(&external)
    .bind(&kinds)
    .bind(&sources)
    .bind(&questions)
    .bind(&conversations)
    .bind(&images)
    .bind(&metas)
    .bind(&extras)
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// The record of one import.
#[derive(Debug, Clone)]
pub struct NewImport<'a> {
    pub dataset: Uuid,
    pub file_digest: &'a str,
    pub file_size: i64,
    pub format: &'a str,
    pub kind: &'a str,
    pub rows_ok: i64,
    pub rows_new: i64,
    pub rows_rejected: i64,
    pub images_stored: i64,
    pub images_deduplicated: i64,
    pub rejected: Value,
}

/// Records an import; the same file imported into the same dataset again records nothing (`false`).
pub async fn record_import(conn: &mut PgConnection, import: &NewImport<'_>) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "insert into dataset_imports (id, dataset_id, file_digest, file_size, format, kind, rows_ok, rows_new,
                                      rows_rejected, images_stored, images_deduplicated, rejected)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         on conflict (dataset_id, file_digest, kind) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(import.dataset)
    .bind(import.file_digest)
    .bind(import.file_size)
    .bind(import.format)
    .bind(import.kind)
    .bind(import.rows_ok)
    .bind(import.rows_new)
    .bind(import.rows_rejected)
    .bind(import.images_stored)
    .bind(import.images_deduplicated)
    .bind(&import.rejected)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ImportRecord {
    pub id: Uuid,
    pub file_digest: String,
    pub file_size: i64,
    pub format: String,
    pub kind: String,
    pub rows_ok: i64,
    pub rows_new: i64,
    pub rows_rejected: i64,
    pub images_stored: i64,
    pub images_deduplicated: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// A dataset's imports, oldest first (without their rejected-row lists).
pub async fn imports(conn: &mut PgConnection, dataset: Uuid) -> sqlx::Result<Vec<ImportRecord>> {
    sqlx::query_as(
        "select id, file_digest, file_size, format, kind, rows_ok, rows_new, rows_rejected, images_stored,
                images_deduplicated, created_at
         from dataset_imports where dataset_id = $1 order by created_at, id",
    )
    .bind(dataset)
    .fetch_all(conn)
    .await
}

/// Rows per kind (`prompt`, `critic_pointwise`, `critic_pairwise`), kinds without rows left out.
pub async fn counts_by_kind(conn: &mut PgConnection, dataset: Uuid) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("select kind, count(*) from prompts where dataset_id = $1 group by kind order by kind")
        .bind(dataset)
        .fetch_all(conn)
        .await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DatasetListItem {
    pub id: Uuid,
    pub name: String,
    pub rows: i64,
    pub imports: i64,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The newest datasets first, with their row and import counts.
pub async fn list(conn: &mut PgConnection, limit: i64) -> sqlx::Result<Vec<DatasetListItem>> {
    sqlx::query_as(
        "select d.id, d.name,
                (select count(*) from prompts p where p.dataset_id = d.id) as rows,
                (select count(*) from dataset_imports i where i.dataset_id = d.id) as imports,
                d.created_at
         from datasets d order by d.created_at desc, d.id desc limit $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await
}

/// One row of an export.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportRow {
    pub id: Uuid,
    pub position: i32,
    pub kind: String,
    pub external_id: Option<String>,
    pub source: Option<String>,
    pub question: String,
    pub conversations: Option<Value>,
    pub image_ref: Option<String>,
    pub image_meta: Option<Value>,
    pub reference_answer: Option<String>,
    pub extra: Option<Value>,
}

/// The rows after `after` (a position), in position order.
pub async fn export_page(
    conn: &mut PgConnection,
    dataset: Uuid,
    after: i32,
    limit: i64,
) -> sqlx::Result<Vec<ExportRow>> {
    sqlx::query_as(
        "select id, position, kind, external_id, source, question, conversations, image_ref, image_meta,
                reference_answer, extra
         from prompts where dataset_id = $1 and position > $2 order by position limit $3",
    )
    .bind(dataset)
    .bind(after)
    .bind(limit)
    .fetch_all(conn)
    .await
}
