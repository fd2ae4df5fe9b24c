mod artifact_gc;
mod artifacts;
mod campaigns;
mod dataset_export;
mod dataset_import;
mod datasets;
mod judge_jobs;
pub use artifact_gc::GcRequest;
pub use datasets::{NewDataset, NewPrompt};
mod pairs;
mod probes;

use crate::{AppState, auth, error::ApiError};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tracing::Instrument;

pub fn router(state: AppState, max_body: usize) -> Router {
    let v1 = Router::new()
        .route("/datasets", post(datasets::create).get(dataset_export::list))
        .route("/datasets/import", post(dataset_import::import))
        .route("/datasets/{id}", get(datasets::show).delete(datasets::delete))
        .route("/datasets/{id}/export", get(dataset_export::export))
        .route("/artifacts/gc", post(artifact_gc::collect))
        .route("/artifacts/{sha256}", get(artifacts::download))
        .route("/campaigns", post(campaigns::create).get(campaigns::list))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/cancel", post(campaigns::cancel))
        .route("/campaigns/{id}/pause", post(campaigns::pause))
        .route("/campaigns/{id}/resume", post(campaigns::resume))
        .route("/campaigns/{id}/rounds/{n}/pairs", get(pairs::export))
        .route("/campaigns/{id}/rounds/{n}/failures", get(pairs::failures))
        .route("/campaigns/{id}/rounds/{n}/judgments", get(pairs::judgments))
        .route("/judge-jobs", post(judge_jobs::submit).get(judge_jobs::list))
        .route("/judge-jobs/{id}", get(judge_jobs::show))
        .route("/judge-jobs/{id}/results", get(judge_jobs::results))
        .route("/judge-jobs/{id}/metrics", get(judge_jobs::metrics))
        .route("/judge-jobs/{id}/failures", get(judge_jobs::failures))
        .route("/judge-jobs/{id}/cancel", post(judge_jobs::cancel))
        .route("/openapi.json", get(crate::openapi::document))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_token));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
}

/// One span per request, child of the caller's `traceparent` when it sends one.
async fn trace_request(req: Request, next: Next) -> Response {
    let mut headers = telemetry::TraceHeaders::new();
    for key in ["traceparent", "tracestate"] {
        if let Some(v) = req.headers().get(key).and_then(|v| v.to_str().ok()) {
            headers.insert(key.to_string(), v.to_string());
        }
    }
    let span = tracing::info_span!("http", otel.name = %format!("{} {}", req.method(), req.uri().path()),
        http.method = %req.method(), http.route = %req.uri().path(), http.status = tracing::field::Empty);
    telemetry::set_parent_from(&span, &headers);
    let response = next.run(req).instrument(span.clone()).await;
    span.record("http.status", response.status().as_u16());
    response
}
