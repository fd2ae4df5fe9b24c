//! `GET /v1/artifacts/{sha256}`: an image from the artifact store, streamed (`sha256:<hex>` or bare hex).

use crate::{AppState, error::ApiError};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::TryStreamExt;

pub async fn download(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Response, ApiError> {
    let digest = artifacts::Digest::parse(&raw).map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("artifact `{raw}` not found: name it by its sha256 (64 lowercase hex digits, optionally sha256:)"),
        )
    })?;
    let kind = artifacts::Kind::Image;
    let meta = state.artifacts.head(kind, &digest).await.map_err(store_error)?;
    let Some(meta) = meta else {
        return Err(ApiError::not_found(&format!("artifact sha256:{digest}")));
    };
    let stream = state.artifacts.get_stream(kind, &digest).await.map_err(store_error)?;
    let stream = stream.map_err(|e| {
        tracing::error!(error = %e, "reading an artifact failed mid-stream");
        std::io::Error::other("artifact store error while streaming")
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, meta.size)
        .header(header::ETAG, format!("\"sha256:{digest}\""))
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))
}

fn store_error(error: artifacts::ArtifactError) -> ApiError {
    if let artifacts::ArtifactError::NotFound { digest, .. } = &error {
        return ApiError::not_found(&format!("artifact sha256:{digest}"));
    }
    tracing::error!(%error, "artifact store error");
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the artifact store is unreachable; retry shortly")
}
