//! A small API client whose errors say what to fix.

use serde_json::Value;
use std::time::Duration;

#[derive(Clone)]
pub struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, token: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!token.is_empty(), "no API token: pass --token or set CRITICLOOP_API_TOKEN");
        anyhow::ensure!(
            base.starts_with("http://") || base.starts_with("https://"),
            "the API URL `{base}` must start with http:// or https:// (--api-url, CRITICLOOP_API_URL)"
        );
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        })
    }

    /// Sends the request; a non-2xx answer becomes an error with the API's message and field list.
    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<reqwest::Response> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            // the innermost cause says what happened (connection refused, DNS, timeout)
            let mut cause: &dyn std::error::Error = &e;
            while let Some(inner) = cause.source() {
                cause = inner;
            }
            anyhow::anyhow!(
                "cannot reach the criticloop API at {} ({cause}); is it running? (--api-url, CRITICLOOP_API_URL)",
                self.base
            )
        })?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        let msg = body["error"]["message"].as_str().unwrap_or("no details");
        let fields: Vec<String> = body["error"]["fields"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| format!("{}: {}", f["field"].as_str().unwrap_or("?"), f["message"].as_str().unwrap_or("?")))
            .collect();
        let mut text = format!("{what} failed: HTTP {status}: {msg}");
        if !fields.is_empty() {
            text.push_str(&format!(" ({})", fields.join("; ")));
        }
        for line in body["error"]["lines"].as_array().into_iter().flatten() {
            text.push_str(&format!("\n  line {}: {}", line["line"], line["message"].as_str().unwrap_or("?")));
        }
        if status.as_u16() == 401 {
            text.push_str(" (check --token, CRITICLOOP_API_TOKEN or the config file)");
        }
        anyhow::bail!(text)
    }

    async fn json(resp: reqwest::Response, what: &str) -> anyhow::Result<Value> {
        resp.json().await.map_err(|e| anyhow::anyhow!("{what}: the API's answer is not JSON: {e}"))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let what = format!("GET {path}");
        Self::json(self.send(self.http.get(format!("{}{path}", self.base)), &what).await?, &what).await
    }

    pub async fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let what = format!("DELETE {path}");
        Self::json(self.send(self.http.delete(format!("{}{path}", self.base)), &what).await?, &what).await
    }

    pub async fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let what = format!("GET {path}");
        Ok(self.send(self.http.get(format!("{}{path}", self.base)), &what).await?.text().await?)
    }

    /// Streams a file as the request body (no overall timeout: uploads can be large).
    pub async fn post_file(&self, path: &str, file: &std::path::Path, content_type: &str) -> anyhow::Result<Value> {
        let what = format!("POST {path}");
        let f =
            tokio::fs::File::open(file).await.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(24 * 3600))
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(reqwest::Body::from(f));
        Self::json(self.send(req, &what).await?, &what).await
    }

    /// Streams a file as the request body, printing the bytes sent to stderr as it goes.
    pub async fn post_file_with_progress(&self, path: &str, file: &std::path::Path) -> anyhow::Result<Value> {
        use tokio::io::AsyncReadExt;
        let what = format!("POST {path}");
        let f =
            tokio::fs::File::open(file).await.map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let total = f.metadata().await.map(|m| m.len()).unwrap_or(0);
        let started = std::time::Instant::now();
        let chunks = futures::stream::unfold((f, 0u64, 0u64), move |(mut f, sent, shown)| async move {
            let mut buf = vec![0u8; 1 << 20];
            match f.read(&mut buf).await {
                Ok(0) => {
                    eprintln!(
                        "uploaded {} in {:.1}s; the server is importing it",
                        mib(sent),
                        started.elapsed().as_secs_f64()
                    );
                    None
                }
                Ok(n) => {
                    buf.truncate(n);
                    let sent = sent + n as u64;
                    let shown = if sent - shown >= (total / 20).max(8 << 20) {
                        eprintln!("uploaded {} of {}", mib(sent), mib(total));
                        sent
                    } else {
                        shown
                    };
                    Some((Ok::<_, std::io::Error>(buf), (f, sent, shown)))
                }
                Err(e) => Some((Err(e), (f, sent, u64::MAX))),
            }
        });
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .timeout(Duration::from_secs(24 * 3600))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::Body::wrap_stream(chunks));
        Self::json(self.send(req, &what).await?, &what).await
    }

    /// A streamed response body (no overall timeout), for large JSONL downloads.
    pub async fn get_stream(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        let what = format!("GET {path}");
        let req = self.http.get(format!("{}{path}", self.base)).timeout(Duration::from_secs(24 * 3600));
        self.send(req, &what).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let what = format!("POST {path}");
        Self::json(self.send(self.http.post(format!("{}{path}", self.base)).json(body), &what).await?, &what).await
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}
