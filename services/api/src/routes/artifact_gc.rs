//! `POST /v1/artifacts/gc`: garbage-collect the artifact store. The keep set is every digest the database
//! references (`store::artifact_refs`); artifacts outside it and older than the grace period are deleted
//! (or, with `dry_run`, only reported).

use crate::{AppState, error::ApiError, extract::JsonBody};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use protocol::FieldError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;
use tracing::Instrument;

/// The grace period when none is given: artifacts written in the last day survive.
const DEFAULT_OLDER_THAN_S: u64 = 24 * 3600;
/// The report lists at most this many collected artifacts (all are counted).
const MAX_LISTED: usize = 1000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GcRequest {
    /// Report what would be deleted, delete nothing.
    #[serde(default)]
    pub dry_run: bool,
    /// The grace period in seconds: unreferenced artifacts younger than this are kept (an upload not yet
    /// referenced, an import still running). Default one day; at least the store's `dedup_refresh_secs`.
    #[serde(default)]
    pub older_than_s: Option<u64>,
}

pub async fn collect(
    State(state): State<AppState>,
    JsonBody(request): JsonBody<GcRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let refresh = state.artifacts.dedup_refresh().as_secs();
    let older_than_s = request.older_than_s.unwrap_or(DEFAULT_OLDER_THAN_S.max(refresh));
    if older_than_s < refresh {
        return Err(ApiError::invalid(vec![FieldError {
            field: "older_than_s".into(),
            message: format!(
                "must be at least the artifact store's dedup_refresh_secs ({refresh}): a put that deduplicates \
                 onto a younger artifact does not renew it, so a shorter grace period could collect an image \
                 an import or submission is about to reference"
            ),
        }]));
    }
    let span = tracing::info_span!(
        "artifacts.gc",
        dry_run = request.dry_run,
        older_than_s,
        referenced = tracing::field::Empty,
        deleted = tracing::field::Empty,
        bytes_freed = tracing::field::Empty
    );
    async move {
        // The references are read before the store is listed: anything referenced later is either younger
        // than the grace period or was renewed by its put (dedup_refresh <= older_than).
        let referenced = {
            let mut conn = state.rt.pool.acquire().await?;
            store::artifact_refs::referenced(&mut conn).await?
        };
        let keep: HashSet<artifacts::Digest> =
            referenced.iter().filter_map(|hex| artifacts::Digest::parse(hex).ok()).collect();
        tracing::Span::current().record("referenced", keep.len());
        let grace = Duration::from_secs(older_than_s);
        let report = if request.dry_run {
            state.artifacts.gc_dry_run(&keep, grace).await
        } else {
            state.artifacts.gc(&keep, grace).await
        }
        .map_err(store_error)?;
        let span = tracing::Span::current();
        span.record("deleted", report.deleted.len());
        span.record("bytes_freed", report.bytes_freed());
        tracing::info!(removed = report.deleted.len(), bytes = report.bytes_freed(), "artifact garbage collection");
        let listed: Vec<Value> = report
            .deleted
            .iter()
            .take(MAX_LISTED)
            .map(|(kind, digest, size)| json!({"kind": kind, "digest": format!("sha256:{digest}"), "size": size}))
            .collect();
        Ok((
            StatusCode::OK,
            Json(json!({
                "dry_run": request.dry_run,
                "older_than_s": older_than_s,
                "referenced": keep.len(),
                "scanned": report.scanned,
                "kept": report.kept,
                "spared_young": report.spared_young,
                "removed": report.deleted.len(),
                "bytes_freed": report.bytes_freed(),
                "removed_artifacts": listed,
            })),
        ))
    }
    .instrument(span)
    .await
}

fn store_error(error: artifacts::ArtifactError) -> ApiError {
    tracing::error!(%error, "artifact garbage collection failed");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "unavailable",
        "the artifact store failed during the collection (what it deleted was unreferenced); retry shortly",
    )
}
