//! Judge jobs ("backlogs"): submit JSONL items to be judged by a critic, follow progress, stream the
//! results, read the agreement metrics. Submission is all or nothing: every line is checked, and a
//! single bad line rejects the upload with every bad line reported by number, storing nothing.

mod inline_image;
mod results;
mod submit;

pub use results::{metrics, results};
pub use submit::submit;

use crate::{AppState, error::ApiError};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

fn status_json(job: &store::judge_jobs::JobStatus) -> Value {
    let settled = job.items_judged + job.items_failed;
    let mut v = serde_json::to_value(job).unwrap_or(Value::Null);
    v["progress"] = json!(if job.items_total > 0 { f64::from(settled) / f64::from(job.items_total) } else { 0.0 });
    v
}

pub async fn show(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = crate::extract::id(&raw, "judge job")?;
    let mut conn = state.rt.pool.acquire().await?;
    let job = store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    Ok(Json(status_json(&job)))
}

pub async fn list(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let mut conn = state.rt.pool.acquire().await?;
    let jobs = store::judge_jobs::list(&mut conn, 200).await?;
    Ok(Json(json!({ "judge_jobs": jobs.iter().map(status_json).collect::<Vec<_>>() })))
}

/// Stops releasing the job's items; chunks already with the workers finish.
pub async fn cancel(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = crate::extract::id(&raw, "judge job")?;
    let mut conn = state.rt.pool.acquire().await?;
    let job = store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    if !store::judge_jobs::cancel(&mut conn, id).await? {
        return Err(ApiError::conflict(format!("judge job is {}, not running", job.state)));
    }
    let job = store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    Ok((StatusCode::ACCEPTED, Json(status_json(&job))))
}

/// Chunks that were dead-lettered, with their reasons.
pub async fn failures(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<Value>, ApiError> {
    let id = crate::extract::id(&raw, "judge job")?;
    let mut conn = state.rt.pool.acquire().await?;
    store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    let failures = store::failures::of_job(&mut conn, id).await?;
    Ok(Json(json!({ "failures": failures })))
}
