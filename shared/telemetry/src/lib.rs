//! Tracing for every service: `tracing` to stderr, and OpenTelemetry spans over OTLP when the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set. Trace context crosses process
//! boundaries as W3C `traceparent` / `tracestate` strings (AMQP headers, HTTP headers, database rows).

mod init;
mod propagation;

pub use init::{Telemetry, init};
pub use propagation::{TraceHeaders, context_of, current_traceparent, inject_span, set_parent_from};
