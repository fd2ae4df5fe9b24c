use config::Secret;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct ApiSection {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Comma-separated bearer tokens.
    #[serde(default)]
    pub tokens: Secret,
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Largest streamed upload: judge-job JSONL, dataset files (spooled to a temporary file, never in memory).
    #[serde(default = "default_max_upload")]
    pub max_upload_bytes: usize,
}

fn default_max_upload() -> usize {
    16 * 1024 * 1024 * 1024
}

fn default_listen() -> String {
    "0.0.0.0:8080".into()
}
fn default_max_body() -> usize {
    8 * 1024 * 1024
}

#[derive(Debug, Clone)]
pub struct ApiSettings {
    pub common: worker::Settings,
    pub api: ApiSection,
}

impl ApiSettings {
    pub fn load() -> anyhow::Result<Self> {
        #[derive(Deserialize)]
        struct Api {
            #[serde(default = "empty")]
            api: serde_json::Value,
        }
        fn empty() -> serde_json::Value {
            serde_json::json!({})
        }
        let common = worker::Settings::load()?;
        let raw: Api = config::load(serde_json::json!({}))?;
        let api: ApiSection =
            serde_json::from_value(raw.api).map_err(|e| anyhow::anyhow!("invalid CRITICLOOP_API__* settings: {e}"))?;
        Ok(Self { common, api })
    }
}
