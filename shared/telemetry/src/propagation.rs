use opentelemetry::Context;
use opentelemetry::propagation::{Extractor, Injector};
use std::collections::HashMap;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// W3C trace-context fields as plain strings, ready to become AMQP or HTTP headers.
pub type TraceHeaders = HashMap<String, String>;

struct MapCarrier<'a>(&'a mut TraceHeaders);
impl Injector for MapCarrier<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key.to_string(), value);
    }
}
struct MapReader<'a>(&'a TraceHeaders);
impl Extractor for MapReader<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }
}

/// The trace-context headers of `span`.
pub fn inject_span(span: &tracing::Span) -> TraceHeaders {
    let mut headers = TraceHeaders::new();
    let cx = span.context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut MapCarrier(&mut headers)));
    headers
}

/// The `traceparent` of the current span, if it is being traced.
pub fn current_traceparent() -> Option<String> {
    inject_span(&tracing::Span::current()).remove("traceparent")
}

/// The OpenTelemetry context carried by headers.
pub fn context_of(headers: &TraceHeaders) -> Context {
    opentelemetry::global::get_text_map_propagator(|p| p.extract(&MapReader(headers)))
}

/// Makes `span` a child of the context in `headers` (no-op when they carry none).
pub fn set_parent_from(span: &tracing::Span, headers: &TraceHeaders) {
    if headers.contains_key("traceparent") {
        let _ = span.set_parent(context_of(headers));
    }
}
