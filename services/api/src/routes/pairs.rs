use crate::{AppState, error::ApiError};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

async fn round_of(state: &AppState, id: &str, n: &str) -> Result<store::rounds::Round, ApiError> {
    let id = crate::extract::id(id, "campaign")?;
    let n: i32 = n.parse().map_err(|_| ApiError::not_found(&format!("round `{n}`")))?;
    let mut conn = state.rt.pool.acquire().await?;
    store::rounds::by_number(&mut conn, id, n).await?.ok_or_else(|| ApiError::not_found("round"))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `criticloop` (default: LLaVA-NeXT's fields plus the rewards), `llava` or `trl`.
    #[serde(default)]
    format: Option<String>,
}

/// A round's best/worst pairs as JSONL: LLaVA-NeXT's DPO layout `{id, image, prompt, chosen, rejected}`
/// (`format=llava`), TRL's `{prompt, chosen, rejected, images}` (`format=trl`), or LLaVA-NeXT's plus
/// the rewards (the default). Images are `sha256:<hex>` references to the artifact store (the same ones the
/// dataset export shows), downloadable from `/v1/artifacts/{sha256}`.
pub async fn export(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let format = query.format.unwrap_or_else(|| "criticloop".into());
    if !matches!(format.as_str(), "criticloop" | "llava" | "trl") {
        let message = format!("unknown format `{format}`: use criticloop, llava or trl");
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message));
    }
    let round = round_of(&state, &id, &n).await?;
    let mut conn = state.rt.pool.acquire().await?;
    let pairs = store::results::pairs_of_round(&mut conn, round.id).await?;
    let mut body = String::new();
    for p in pairs {
        // the prompt's stored image, as the dataset export and judge results name it
        let image = p.image.as_deref().map(|hex| format!("sha256:{hex}"));
        let line = match format.as_str() {
            "trl" => serde_json::json!({
                "prompt": p.question, "chosen": p.chosen, "rejected": p.rejected,
                "images": image.iter().collect::<Vec<_>>(),
            }),
            "llava" => serde_json::json!({
                "id": p.prompt_id, "image": image, "prompt": p.question, "chosen": p.chosen, "rejected": p.rejected,
            }),
            _ => serde_json::json!({
                "id": p.prompt_id, "image": image, "prompt": p.question, "chosen": p.chosen, "rejected": p.rejected,
                "chosen_reward": p.chosen_reward, "rejected_reward": p.rejected_reward,
            }),
        };
        body.push_str(&line.to_string());
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from(body)).into_response())
}

/// A round's critic judgments as JSONL, one per judged ordered pair `(i, j)` (y_i shown first): the prompt,
/// both responses, the parsed verdict as stored (`{"status": "verdict", "verdict": {"kind": "first"}}` or
/// `{"status": "unparsed", "reason": ...}`), the preference it expresses (`first`, `second`, `tie`, or
/// null when unparsed), the score a_ij and the critic's raw output. With the ground truth beside it, this
/// is what a critic's accuracy and position consistency on the round's own pairs are measured from.
pub async fn judgments(
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let round = round_of(&state, &id, &n).await?;
    let mut conn = state.rt.pool.acquire().await?;
    let judgments = store::results::judgments_of_round(&mut conn, round.id).await?;
    let mut body = String::new();
    for j in judgments {
        let parsed = <critic::Parsed as serde::Deserialize>::deserialize(&j.verdict.0).ok();
        let preference = parsed.as_ref().and_then(critic::Parsed::verdict).and_then(critic::Verdict::preference);
        let line = serde_json::json!({
            "id": j.prompt_id, "image": j.image.as_deref().map(|hex| format!("sha256:{hex}")), "prompt": j.question,
            "i": j.i, "j": j.j, "first": j.first, "second": j.second,
            "verdict": j.verdict.0, "preference": preference, "score": j.score, "raw_output": j.raw_output,
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
