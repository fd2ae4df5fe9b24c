use crate::{AppState, error::ApiError, extract::JsonBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use protocol::FieldError;
use serde::Deserialize;
use uuid::Uuid;

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
            && artifacts::Digest::parse(&img.to_ascii_lowercase()).is_err()
        {
            errors.push(FieldError {
                field: format!("prompts[{i}].image"),
                message: "must be a sha256 digest (64 hex digits, optionally sha256:)".into(),
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
            // stored as bare lowercase hex, whichever form was sent
            image_ref: p.image.map(|img| img.to_ascii_lowercase().trim_start_matches("sha256:").to_owned()),
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
    let kinds: serde_json::Map<String, serde_json::Value> = store::dataset_import::counts_by_kind(&mut conn, id)
        .await?
        .into_iter()
        .map(|(kind, count)| (kind, count.into()))
        .collect();
    let imports = store::dataset_import::imports(&mut conn, id).await?;
    let mut body = serde_json::to_value(ds).map_err(anyhow::Error::from)?;
    body["rows_by_kind"] = kinds.into();
    body["imports"] = serde_json::to_value(imports).map_err(anyhow::Error::from)?;
    Ok(Json(body))
}

/// Deletes a dataset, its rows and its import records; 409 while a campaign samples it. Its images stay in
/// the artifact store until a garbage collection (`POST /v1/artifacts/gc`) finds them unreferenced.
pub async fn delete(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = crate::extract::id(&raw, "dataset")?;
    let mut tx = state.rt.pool.begin().await?;
    match store::datasets::delete(&mut tx, id).await? {
        store::datasets::Deleted::NotFound => Err(ApiError::not_found("dataset")),
        store::datasets::Deleted::InUse { campaigns } => {
            let shown: Vec<String> = campaigns.iter().take(5).map(Uuid::to_string).collect();
            Err(ApiError::conflict(format!(
                "dataset {id} is used by {} campaign(s) ({}{}); it cannot be deleted while a campaign refers to it",
                campaigns.len(),
                shown.join(", "),
                if campaigns.len() > shown.len() { ", ..." } else { "" }
            )))
        }
        store::datasets::Deleted::Deleted { rows } => {
            tx.commit().await?;
            tracing::info!(dataset = %id, rows, "dataset deleted");
            Ok(Json(serde_json::json!({"id": id, "deleted": true, "rows": rows})))
        }
    }
}
