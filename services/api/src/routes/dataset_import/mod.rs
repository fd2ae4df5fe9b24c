//! `POST /v1/datasets/import?format=…&name=…[&dataset_id=…][&kind=…]`: the body is the file. It is spooled
//! to a temporary file (never held in memory, at most `api.max_upload_bytes`), then imported by
//! `ingest::Importer`: images into the artifact store, rows into Postgres in one transaction (`PgSink`).
//! A bad row is rejected alone and reported; a bad file is a 422 and stores no row.

mod sink;

pub use sink::kind_name;

use crate::{AppState, error::ApiError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use futures::StreamExt;
use ingest::{Format, ImportError, ImportOptions, Importer, RowKind};
use protocol::FieldError;
use serde::Deserialize;
use serde_json::{Value, json};
use sink::{NoSuchDataset, PgSink, Target};
use tokio::io::AsyncWriteExt;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    pub format: String,
    pub name: Option<String>,
    pub dataset_id: Option<uuid::Uuid>,
    /// `prompt` (default), `critic_pointwise` or `critic_pairwise`.
    pub kind: Option<String>,
}

struct Checked {
    format: Format,
    kind: RowKind,
    target: Target,
}

fn check(uri: &Uri) -> Result<Checked, ApiError> {
    let Query(params) = Query::<ImportParams>::try_from_uri(uri).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", format!("query parameters: {}", e.body_text()))
    })?;
    let mut errors = Vec::new();
    let format = params.format.parse::<Format>().map_err(|e| {
        errors.push(FieldError { field: "format".into(), message: e.to_string() });
    });
    let kind = match params.kind.as_deref() {
        None | Some("prompt") => Ok(RowKind::Prompt),
        Some("critic_pointwise") => Ok(RowKind::CriticPointwise),
        Some("critic_pairwise") => Ok(RowKind::CriticPairwise),
        Some(other) => {
            errors.push(FieldError {
                field: "kind".into(),
                message: format!("unknown kind `{other}`: expected prompt, critic_pointwise or critic_pairwise"),
            });
            Err(())
        }
    };
    let target = match (params.dataset_id, params.name) {
        (Some(id), _) => Ok(Target::Existing(id)),
        (None, Some(name)) if !name.trim().is_empty() => Ok(Target::Named(name)),
        _ => {
            errors.push(FieldError {
                field: "name".into(),
                message: "give the new dataset's name, or dataset_id to import into an existing one".into(),
            });
            Err(())
        }
    };
    match (format, kind, target) {
        (Ok(format), Ok(kind), Ok(target)) if errors.is_empty() => Ok(Checked { format, kind, target }),
        _ => Err(ApiError::invalid(errors)),
    }
}

pub async fn import(
    State(state): State<AppState>,
    uri: Uri,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let checked = check(&uri)?;
    let upload = spool(body, state.max_upload_bytes).await?;
    let mut options = ImportOptions::new(checked.format);
    options.kind = Some(checked.kind);
    // The server reads no files a record names: images come inline or as stored sha256: references.
    options.image_files = false;
    let importer = Importer::new(state.artifacts.clone(), options);
    let mut sink = PgSink::new(state.rt.pool.clone(), checked.target);
    let report = importer.import(upload.path(), &mut sink).await.map_err(import_error)?;
    let dataset = sink.dataset.ok_or_else(|| anyhow::anyhow!("import committed without a dataset"))?;
    tracing::info!(%dataset, rows_ok = report.rows_ok, rows_new = sink.rows_new, rejected = report.rows_rejected,
        format = %report.file.format, "dataset imported");
    let body = json!({
        "dataset_id": dataset,
        "file": {"sha256": report.file.digest.to_hex(), "size": report.file.size, "format": report.file.format,
                 "kind": kind_name(report.file.kind)},
        "rows_ok": report.rows_ok,
        "rows_new": sink.rows_new,
        "rows_rejected": report.rows_rejected,
        "rejected": sink::rejected_json(&report),
        "images_stored": report.images_stored,
        "images_deduplicated": report.images_deduplicated,
        "already_imported": !sink.recorded,
    });
    Ok((StatusCode::CREATED, Json(body)))
}

/// Writes the body to a temporary file, bounded by `max` bytes.
async fn spool(body: Body, max: usize) -> Result<tempfile::NamedTempFile, ApiError> {
    let temp = tempfile::Builder::new()
        .prefix("criticloop-import-")
        .tempfile()
        .map_err(|e| anyhow::anyhow!("creating a temporary file for the upload: {e}"))?;
    let mut file = tokio::fs::File::from_std(temp.reopen().map_err(anyhow::Error::from)?);
    let mut received = 0usize;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string()))?;
        received += chunk.len();
        if received > max {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("uploads are limited to {max} bytes (api.max_upload_bytes)"),
            ));
        }
        file.write_all(&chunk).await.map_err(|e| anyhow::anyhow!("spooling the upload: {e}"))?;
    }
    file.flush().await.map_err(|e| anyhow::anyhow!("spooling the upload: {e}"))?;
    Ok(temp)
}

/// A file-level failure: 422 naming the problem (the temporary file's path replaced by "the file"), 404 for
/// an unknown dataset, 503 for a store or database outage.
fn import_error(error: ImportError) -> ApiError {
    if let ImportError::Sink { source, .. } = &error {
        if let Some(NoSuchDataset(id)) = source.downcast_ref::<NoSuchDataset>() {
            return ApiError::not_found(&format!("dataset {id}"));
        }
        if let Some(sqlx) = source.downcast_ref::<sqlx::Error>() {
            tracing::error!(error = %sqlx, "dataset import: database error");
        }
    }
    let path = match &error {
        ImportError::Io { path, .. }
        | ImportError::Syntax { path, .. }
        | ImportError::Shape { path, .. }
        | ImportError::Parquet { path, .. }
        | ImportError::Column { path, .. }
        | ImportError::FileChanged { path }
        | ImportError::Artifact { path, .. }
        | ImportError::Sink { path, .. }
        | ImportError::Internal { path, .. } => path.display().to_string(),
    };
    let message = error.to_string().replacen(&path, "the uploaded file", 1);
    if error.is_retryable() {
        tracing::error!(%error, "dataset import failed");
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", format!("{message}; retry shortly"));
    }
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_file", format!("{message}; nothing was stored"))
}
