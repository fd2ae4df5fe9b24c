//! One error type at the HTTP edge: a status, a stable code, a message a person can act on, and the
//! fields at fault. Causes are logged; SQL never leaks into a response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use protocol::FieldError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<FieldError>,
    /// Bad lines of a JSONL upload (the first ones, when there are many).
    pub lines: Vec<protocol::LineError>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), fields: Vec::new(), lines: Vec::new() }
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }
    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let names: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_request",
            message: format!("invalid fields: {}", names.join(", ")),
            fields,
            lines: Vec::new(),
        }
    }
    /// A JSONL upload with `bad` bad lines, the first of which are in `lines`; nothing was stored.
    pub fn invalid_lines(bad: usize, lines: Vec<protocol::LineError>) -> Self {
        let first = lines.first().map(|l| format!(" (first: line {}: {})", l.line, l.message)).unwrap_or_default();
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid_lines",
            message: format!("{bad} line(s) are not valid judge items{first}; nothing was stored"),
            fields: Vec::new(),
            lines,
        }
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = serde_json::json!({ "code": self.code, "message": self.message, "fields": self.fields });
        if !self.lines.is_empty() {
            error["lines"] = serde_json::to_value(&self.lines).unwrap_or_default();
        }
        let body = serde_json::json!({ "error": error });
        (self.status, Json(body)).into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        if store::is_retryable(&e) {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unreachable; retry shortly",
            );
        }
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        if let Some(sqlx) = e.downcast_ref::<sqlx::Error>()
            && store::is_retryable(sqlx)
        {
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unreachable; retry shortly",
            );
        }
        tracing::error!(error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}
