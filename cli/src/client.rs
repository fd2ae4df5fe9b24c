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
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        })
    }

    async fn send(&self, req: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
        let resp = req.bearer_auth(&self.token).send().await.map_err(|e| {
            anyhow::anyhow!("cannot reach the criticloop API at {} ({e}); is it running? (--api-url)", self.base)
        })?;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let msg = body["error"]["message"].as_str().unwrap_or("no details");
            anyhow::bail!("{what} failed: HTTP {status}: {msg}");
        }
        Ok(body)
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.http.get(format!("{}{path}", self.base)), &format!("GET {path}")).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body), &format!("POST {path}")).await
    }
}
