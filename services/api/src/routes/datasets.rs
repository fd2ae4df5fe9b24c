use crate::{AppState, error::ApiError, extract::JsonBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::FieldError;
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDataset {
    pub name: String,
    pub prompts: Vec<NewPrompt>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrompt {
    pub question: String,
    /// sha256 of an image artifact, if the prompt has an image.
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub reference_answer: Option<String>,
}

const MAX_PROMPTS: usize = 200_000;

/// Creates a dataset from prompts given inline.
pub async fn create(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<NewDataset>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let mut errors = Vec::new();
    if body.name.trim().is_empty() {
        errors.push(FieldError { field: "name".into(), message: "must not be empty".into() });
    }
    if body.prompts.is_empty() || body.prompts.len() > MAX_PROMPTS {
        errors.push(FieldError { field: "prompts".into(), message: format!("must hold 1 to {MAX_PROMPTS} prompts") });
    }
    for (i, p) in body.prompts.iter().enumerate() {
        if p.question.trim().is_empty() {
            errors.push(FieldError { field: format!("prompts[{i}].question"), message: "must not be empty".into() });
        }
        if let Some(img) = &p.image
            && (img.len() != 64 || !img.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            errors.push(FieldError {
                field: format!("prompts[{i}].image"),
                message: "must be a sha256 hex digest".into(),
            });
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let prompts: Vec<store::datasets::NewPrompt> = body
        .prompts
        .into_iter()
        .map(|p| store::datasets::NewPrompt {
            question: p.question,
            image_ref: p.image,
            reference_answer: p.reference_answer,
        })
        .collect();
    let mut tx = state.rt.pool.begin().await?;
    let id = store::datasets::create(&mut tx, &body.name, &prompts).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": id, "name": body.name, "prompts": prompts.len()}))))
}

pub async fn show(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let id = crate::extract::id(&raw, "dataset")?;
    let mut conn = state.rt.pool.acquire().await?;
    let ds = store::datasets::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("dataset"))?;
    Ok(Json(serde_json::to_value(ds).map_err(anyhow::Error::from)?))
}
