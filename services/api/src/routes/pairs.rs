use crate::{AppState, error::ApiError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

async fn round_of(state: &AppState, id: &str, n: &str) -> Result<store::rounds::Round, ApiError> {
    let id = crate::extract::id(id, "campaign")?;
    let n: i32 = n.parse().map_err(|_| ApiError::not_found(&format!("round `{n}`")))?;
    let mut conn = state.rt.pool.acquire().await?;
    store::rounds::by_number(&mut conn, id, n).await?.ok_or_else(|| ApiError::not_found("round"))
}

/// A round's best/worst pairs as JSONL, in LLaVA-NeXT's DPO layout plus the rewards.
pub async fn export(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let round = round_of(&state, &id, &n).await?;
    let mut conn = state.rt.pool.acquire().await?;
    let pairs = store::results::pairs_of_round(&mut conn, round.id).await?;
    let mut body = String::new();
    for p in pairs {
        let line = serde_json::json!({
            "id": p.prompt_id, "image": p.image, "prompt": p.question, "chosen": p.chosen, "rejected": p.rejected,
            "chosen_reward": p.chosen_reward, "rejected_reward": p.rejected_reward,
        });
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from(body)).into_response())
}

/// The round's failed tasks with their reasons.
pub async fn failures(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let round = round_of(&state, &id, &n).await?;
    let mut conn = state.rt.pool.acquire().await?;
    let failures = store::failures::of_round(&mut conn, round.id).await?;
    Ok(Json(serde_json::json!({ "failures": failures })))
}
