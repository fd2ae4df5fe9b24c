//! Bearer-token authentication for everything but the probes.

use crate::{AppState, error::ApiError};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let presented = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let Some(value) = presented else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing bearer token: send the header `Authorization: Bearer <token>`",
        )
        .into_response();
    };
    let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the Authorization header must be `Bearer <token>`",
        )
        .into_response();
    };
    if !state.tokens.iter().any(|t| constant_time_eq(t.as_bytes(), token.as_bytes())) {
        return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the bearer token is not valid")
            .into_response();
    }
    next.run(req).await
}
