//! Reading a job out: results as a JSONL stream in submission order (pages from Postgres as the
//! client reads, so a 500k-item job never sits in memory), and the agreement metrics once scored.

use crate::{AppState, error::ApiError};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use store::judge_jobs::ResultRow;

const PAGE: i64 = 2000;

#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    /// Resume after this position (the `position` of the last line read).
    #[serde(default = "before_first")]
    pub after: i32,
}

fn before_first() -> i32 {
    -1
}

/// One result line: the submitter's id, image reference (`sha256:<hex>` for stored images) and labels beside
/// the critic's verdict.
fn line(row: &ResultRow) -> Value {
    let item = &row.item;
    let verdict = row.verdict.as_ref();
    let prediction = verdict
        .and_then(|v| serde_json::from_value::<critic::Parsed>(v.clone()).ok())
        .and_then(|p| p.verdict().and_then(critic::Verdict::preference));
    json!({
        "position": row.position,
        "id": item.get("id"),
        "image": item.get("image"),
        "template": row.template,
        "verdict": verdict,
        "prediction": prediction,
        "score": row.score,
        "label": item.get("label"),
        "models": item.get("models"),
        "raw_output": row.raw_output,
        "error": row.error,
    })
}

pub async fn results(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<ResultsQuery>,
) -> Result<Response, ApiError> {
    let id = crate::extract::id(&raw, "judge job")?;
    {
        let mut conn = state.rt.pool.acquire().await?;
        store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    }
    let fetch = move |pool: sqlx::PgPool, after| async move {
        let mut conn = pool.acquire().await?;
        store::judge_jobs::results_page(&mut conn, id, after, PAGE).await
    };
    crate::jsonl::pages(state.rt.pool.clone(), q.after, PAGE, "judge results", fetch, |r: &ResultRow| r.position, line)
}

/// The agreement metrics of a scored job; 409 (with the progress) before that.
pub async fn metrics(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = crate::extract::id(&raw, "judge job")?;
    let mut conn = state.rt.pool.acquire().await?;
    let job = store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    match store::judge_jobs::metrics(&mut conn, id).await? {
        Some(metrics) => Ok(Json(json!({ "job_id": id, "state": job.state, "metrics": metrics }))),
        None => Err(ApiError::conflict(format!(
            "metrics are computed when every item is judged: the job is {} with {} of {} items settled",
            job.state,
            job.items_judged + job.items_failed,
            job.items_total
        ))),
    }
}
