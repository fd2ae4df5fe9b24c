//! `GET /v1/datasets` (list) and `GET /v1/datasets/{id}/export`: every row as JSONL, streamed a page at a
//! time from Postgres, with images as `sha256:<hex>` references (download them from `/v1/artifacts/{sha256}`).

use crate::{AppState, error::ApiError};
use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};
use store::dataset_import::ExportRow;

const PAGE: i64 = 1000;

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut conn = state.rt.pool.acquire().await?;
    let datasets = store::dataset_import::list(&mut conn, 500).await?;
    Ok(Json(json!({ "datasets": datasets })))
}

/// One export line: `{id, prompt_id, kind, source, question, conversations, image, image_meta,
/// reference_answer, extra}`; `id` is the file's own id (the prompt id for inline prompts).
fn line(row: &ExportRow) -> Value {
    let conversations = row.conversations.clone().unwrap_or_else(|| json!([{"from": "human", "value": row.question}]));
    json!({
        "id": row.external_id.clone().unwrap_or_else(|| row.id.to_string()),
        "prompt_id": row.id,
        "kind": row.kind,
        "source": row.source,
        "question": row.question,
        "conversations": conversations,
        "image": row.image_ref.as_ref().map(|hex| format!("sha256:{hex}")),
        "image_meta": row.image_meta,
        "reference_answer": row.reference_answer,
        "extra": row.extra.clone().unwrap_or_else(|| json!({})),
    })
}

pub async fn export(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let id = crate::extract::id(&raw, "dataset")?;
    {
        let mut conn = state.rt.pool.acquire().await?;
        store::datasets::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("dataset"))?;
    }
    let fetch = move |pool: sqlx::PgPool, after| async move {
        let mut conn = pool.acquire().await?;
        store::dataset_import::export_page(&mut conn, id, after, PAGE).await
    };
    crate::jsonl::pages(state.rt.pool.clone(), -1, PAGE, "a dataset export", fetch, |r: &ExportRow| r.position, line)
}
