//! An OTLP/HTTP trace receiver inside the test: it decodes what the services export (protobuf) and
//! keeps (trace id, span name, service) for each span.

use axum::{Router, body::Bytes, extract::State, routing::post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    pub trace_id: String,
    pub name: String,
    pub service: String,
}

#[derive(Clone, Default)]
pub struct Receiver {
    pub spans: Arc<Mutex<Vec<ReceivedSpan>>>,
}

impl Receiver {
    /// Serves on a free loopback port; returns the endpoint for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub async fn start() -> anyhow::Result<(Self, String)> {
        let receiver = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let endpoint = format!("http://{}", listener.local_addr()?);
        let app = Router::new().route("/v1/traces", post(export)).with_state(receiver.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((receiver, endpoint))
    }

    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

async fn export(State(receiver): State<Receiver>, body: Bytes) -> Vec<u8> {
    if let Ok(request) = ExportTraceServiceRequest::decode(body) {
        let mut out = Vec::new();
        for rs in request.resource_spans {
            let service = rs
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|kv| kv.key == "service.name")
                .and_then(|kv| kv.value.as_ref())
                .and_then(|v| match &v.value {
                    Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_default();
            for ss in rs.scope_spans {
                for span in ss.spans {
                    let trace_id = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                    out.push(ReceivedSpan { trace_id, name: span.name, service: service.clone() });
                }
            }
        }
        if let Ok(mut spans) = receiver.spans.lock() {
            spans.extend(out);
        }
    }
    Vec::new()
}
