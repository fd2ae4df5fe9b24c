//! Streaming JSONL responses from Postgres, a keyset page at a time, so a large export never sits in
//! memory: each page is fetched when the client has read the previous one.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::header;
use axum::response::Response;
use serde_json::Value;
use sqlx::PgPool;
use std::future::Future;

/// Streams the rows `fetch(pool, after)` returns, page after page, each as one JSON line from `line`,
/// resuming after the `key` of the last row of each page until a page comes back short. `what` names
/// the stream in the log and in the error a broken stream ends with.
pub fn pages<R, F, Fut>(
    pool: PgPool,
    start_after: i32,
    page_size: i64,
    what: &'static str,
    fetch: F,
    key: fn(&R) -> i32,
    line: fn(&R) -> Value,
) -> Result<Response, ApiError>
where
    R: Send + 'static,
    F: Fn(PgPool, i32) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = sqlx::Result<Vec<R>>> + Send + 'static,
{
    let body = futures::stream::unfold(Some(start_after), move |after| {
        let page = after.map(|after| fetch(pool.clone(), after));
        async move {
            match page?.await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let mut text = String::with_capacity(rows.len() * 256);
                    for row in &rows {
                        text.push_str(&line(row).to_string());
                        text.push('\n');
                    }
                    let next = if (rows.len() as i64) < page_size { None } else { rows.last().map(key) };
                    Some((Ok::<_, std::io::Error>(text), next))
                }
                Err(e) => {
                    tracing::error!(error = %e, "reading {what} failed mid-stream");
                    Some((Err(std::io::Error::other(format!("database error while streaming {what}"))), None))
                }
            }
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::from(anyhow::Error::from(e)))
}
