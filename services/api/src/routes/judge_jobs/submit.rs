//! `POST /v1/judge-jobs?critic=…&priority=…`: the body is JSONL, read as a stream. Valid items are
//! inserted in batches inside one transaction; the first bad line switches to checking only, and the
//! transaction is rolled back, so a rejected upload stores nothing.

use crate::{AppState, error::ApiError};
use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use futures::StreamExt;
use protocol::{FieldError, JudgeItem, JudgeJobParams, Label, LineError, judge_job::MAX_PRIORITY};
use serde_json::Value;
use store::judge_jobs::{NewItem, NewJob};

const BATCH: usize = 1000;
const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;
/// Bad lines reported in full; the count of all of them is reported too.
const MAX_REPORTED: usize = 100;

pub async fn submit(
    State(state): State<AppState>,
    uri: Uri,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let params = params(&uri)?;
    let max_upload = state.max_upload_bytes;
    let chunk_items = state.rt.settings.saga.judge_chunk_items.max(1);
    let id = uuid::Uuid::now_v7();
    let traceparent = telemetry::inject_span(&tracing::Span::current()).remove("traceparent");

    let mut tx = state.rt.pool.begin().await?;
    let job = NewJob {
        id,
        name: params.name.as_deref(),
        priority: params.priority,
        critic: &params.critic,
        template: params.template.as_deref(),
        chunk_items,
        traceparent: traceparent.as_deref(),
    };
    store::judge_jobs::create(&mut tx, &job).await?;

    let mut lines = Lines::default();
    let mut batch: Vec<NewItem> = Vec::with_capacity(BATCH);
    let (mut count, mut has_labels, mut bad, mut reported) = (0u32, false, 0usize, Vec::<LineError>::new());
    let mut received = 0usize;
    let mut stream = body.into_data_stream();
    loop {
        let next = stream.next().await;
        let done = next.is_none();
        if let Some(chunk) = next {
            let chunk = chunk.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_body", e.to_string()))?;
            received += chunk.len();
            if received > max_upload {
                return Err(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    format!("uploads are limited to {max_upload} bytes (api.max_upload_bytes)"),
                ));
            }
            lines.push(&chunk);
        }
        for (number, line) in lines.take(done) {
            let outcome = match line {
                Ok(text) => super::inline_image::replace(&state, text).await.and_then(|text| check(&text, &params)),
                Err(message) => Err(message),
            };
            match outcome {
                Ok(None) => {}
                Ok(Some((item, template))) => {
                    has_labels |= item.label.is_some();
                    if bad == 0 {
                        let body = serde_json::to_value(&item).map_err(anyhow::Error::from)?;
                        batch.push(NewItem { position: count as i32, item: body, template });
                    }
                    count += 1;
                }
                Err(message) => {
                    bad += 1;
                    if reported.len() < MAX_REPORTED {
                        reported.push(LineError { line: number, message });
                    }
                }
            }
            if batch.len() >= BATCH {
                store::judge_jobs::insert_items(&mut tx, id, chunk_items, &batch).await?;
                batch.clear();
            }
        }
        if done {
            break;
        }
    }
    if bad > 0 {
        tx.rollback().await?;
        return Err(ApiError::invalid_lines(bad, reported));
    }
    if count == 0 {
        return Err(ApiError::invalid(vec![FieldError {
            field: "body".into(),
            message: "the upload holds no items: send one JSON item per line".into(),
        }]));
    }
    store::judge_jobs::insert_items(&mut tx, id, chunk_items, &batch).await?;
    store::judge_jobs::finish_submission(&mut tx, id, count, has_labels).await?;
    sqlx::query("select pg_notify($1, '')").bind(orchestrator_channel()).execute(&mut *tx).await?;
    tx.commit().await?;
    tracing::info!(job = %id, items = count, priority = params.priority, "judge job submitted");
    let mut conn = state.rt.pool.acquire().await?;
    let job = store::judge_jobs::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("judge job"))?;
    Ok((StatusCode::CREATED, Json(super::status_json(&job))))
}

/// The dispatcher's wake-up channel (`orchestrator::backlog::CHANNEL`).
fn orchestrator_channel() -> &'static str {
    "criticloop_judge_jobs"
}

fn params(uri: &Uri) -> Result<JudgeJobParams, ApiError> {
    let Query(params) = Query::<JudgeJobParams>::try_from_uri(uri).map_err(|e| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query", format!("query parameters: {}", e.body_text()))
    })?;
    let mut errors = Vec::new();
    if params.critic.trim().is_empty() {
        errors.push(FieldError { field: "critic".into(), message: "must name the critic checkpoint".into() });
    }
    if params.priority > MAX_PRIORITY {
        errors.push(FieldError { field: "priority".into(), message: format!("must be 0 to {MAX_PRIORITY}") });
    }
    if let Some(t) = &params.template
        && critic::templates::get(t).is_none()
    {
        errors.push(FieldError { field: "template".into(), message: format!("unknown critic template `{t}`") });
    }
    if errors.is_empty() { Ok(params) } else { Err(ApiError::invalid(errors)) }
}

/// Checks one line: `None` for a blank line, else the item and its resolved template.
fn check(text: &str, params: &JudgeJobParams) -> Result<Option<(JudgeItem, String)>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let item = JudgeItem::parse_line(text)?;
    let mode = if item.is_pairwise() { critic::Mode::Pairwise } else { critic::Mode::Pointwise };
    let id = item.template.clone().or_else(|| params.template.clone()).unwrap_or_else(|| match mode {
        critic::Mode::Pairwise => "llava-critic/pairwise".into(),
        critic::Mode::Pointwise => "llava-critic/pointwise".into(),
    });
    let template = critic::templates::get(&id).ok_or_else(|| format!("unknown critic template `{id}`"))?;
    if template.mode != mode {
        return Err(format!(
            "template `{id}` judges {} items but the item has {} response(s)",
            if template.mode == critic::Mode::Pairwise {
                "pairwise (two responses)"
            } else {
                "pointwise (one response)"
            },
            item.responses.len()
        ));
    }
    if template.needs_reference() && item.reference.is_none() {
        return Err(format!("template `{id}` compares against a reference answer: give `reference`"));
    }
    if let (Some(Label::Score(s)), Some((lo, hi))) = (&item.label, template.format.score_range())
        && !(lo..=hi).contains(s)
    {
        return Err(format!("`label` {s} is outside template `{id}`'s scale {lo} to {hi}"));
    }
    Ok(Some((item, id)))
}

/// Splits a byte stream into numbered lines (1-based), bounding a line's length.
#[derive(Default)]
struct Lines {
    buf: Vec<u8>,
    /// How far `buf` was searched for a newline already.
    scanned: usize,
    number: u64,
    /// Skipping the rest of a line that was too long.
    skipping: bool,
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Complete lines so far (and the last, unterminated one when `end`).
    fn take(&mut self, end: bool) -> Vec<(u64, Result<String, String>)> {
        let mut out = Vec::new();
        let (mut start, mut from) = (0, self.scanned);
        while let Some(off) = self.buf[from..].iter().position(|&b| b == b'\n') {
            let line = &self.buf[start..from + off];
            start = from + off + 1;
            from = start;
            self.number += 1;
            if std::mem::take(&mut self.skipping) {
                out.push((self.number, Err(format!("line longer than {MAX_LINE_BYTES} bytes"))));
                continue;
            }
            out.push((self.number, decode(line)));
        }
        self.buf.drain(..start);
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_LINE_BYTES {
            self.buf.clear();
            self.scanned = 0;
            self.skipping = true;
        }
        if end && (!self.buf.is_empty() || self.skipping) {
            self.number += 1;
            let line = std::mem::take(&mut self.buf);
            self.scanned = 0;
            let result = if std::mem::take(&mut self.skipping) {
                Err(format!("line longer than {MAX_LINE_BYTES} bytes"))
            } else {
                decode(&line)
            };
            out.push((self.number, result));
        }
        out
    }
}

fn decode(line: &[u8]) -> Result<String, String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    String::from_utf8(line.to_vec()).map_err(|_| "the line is not valid UTF-8".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_numbered_across_chunks() {
        let mut lines = Lines::default();
        lines.push(b"{\"a\":1}\n\n{\"b\"");
        let first = lines.take(false);
        lines.push(b":2}\r\nlast");
        let second = lines.take(true);
        let got: Vec<(u64, String)> = first.into_iter().chain(second).map(|(n, l)| (n, l.expect("utf-8"))).collect();
        let want = [(1, "{\"a\":1}"), (2, ""), (3, "{\"b\":2}"), (4, "last")];
        assert_eq!(got, want.map(|(n, s)| (n, s.to_string())));
    }

    #[test]
    fn an_overlong_line_is_reported_and_the_next_one_read() {
        let mut lines = Lines::default();
        lines.push(&vec![b'x'; MAX_LINE_BYTES + 10]);
        assert!(lines.take(false).is_empty());
        lines.push(b"xx\nok\n");
        let got = lines.take(true);
        assert_eq!(got.len(), 2);
        assert!(got[0].1.as_ref().is_err_and(|e| e.contains("longer")));
        assert_eq!(got[1], (2, Ok("ok".to_string())));
    }
}
