//! Trace context and dead-letter facts in AMQP headers.

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable};
use telemetry::TraceHeaders;

const TRACE_KEYS: [&str; 2] = ["traceparent", "tracestate"];

pub fn with_trace_headers(props: BasicProperties, trace: &TraceHeaders) -> BasicProperties {
    let mut table = FieldTable::default();
    for key in TRACE_KEYS {
        if let Some(v) = trace.get(key) {
            table.insert(key.into(), AMQPValue::LongString(v.as_str().into()));
        }
    }
    props.with_headers(table)
}

fn as_string(v: &AMQPValue) -> Option<String> {
    match v {
        AMQPValue::LongString(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
        AMQPValue::ShortString(s) => Some(s.as_str().to_string()),
        _ => None,
    }
}

pub fn trace_headers_of(props: &BasicProperties) -> TraceHeaders {
    let mut out = TraceHeaders::new();
    if let Some(headers) = props.headers() {
        for key in TRACE_KEYS {
            if let Some(v) = headers.inner().get(key).and_then(as_string) {
                out.insert(key.to_string(), v);
            }
        }
    }
    out
}

/// Why and from where RabbitMQ dead-lettered a message (its first `x-death` entry).
#[derive(Debug, Clone, PartialEq)]
pub struct Death {
    pub reason: String,
    pub queue: String,
    pub count: i64,
}

pub fn death_of(props: &BasicProperties) -> Option<Death> {
    let headers = props.headers().as_ref()?;
    let AMQPValue::FieldArray(deaths) = headers.inner().get("x-death")? else { return None };
    let AMQPValue::FieldTable(first) = deaths.as_slice().first()? else { return None };
    let field = |k: &str| first.inner().get(k).and_then(as_string).unwrap_or_default();
    let count = match first.inner().get("count") {
        Some(AMQPValue::LongLongInt(n)) => *n,
        Some(AMQPValue::LongInt(n)) => i64::from(*n),
        _ => 0,
    };
    Some(Death { reason: field("reason"), queue: field("queue"), count })
}
