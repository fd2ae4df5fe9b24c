//! Where the API and its token come from: flags > environment (clap merges both) > config file > default.

use serde::Deserialize;
use std::path::PathBuf;

pub const DEFAULT_API_URL: &str = "http://127.0.0.1:8080";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    api_url: Option<String>,
    token: Option<String>,
}

/// `CRITICLOOP_CLI_CONFIG`, or `~/.config/criticloop/config.toml`.
fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("CRITICLOOP_CLI_CONFIG") {
        return PathBuf::from(p);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    home.join(".config/criticloop/config.toml")
}

fn load(path: &PathBuf) -> anyhow::Result<FileConfig> {
    match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text)
            .map_err(|e| anyhow::anyhow!("config file {} is not valid: {}", path.display(), e.message())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileConfig::default()),
        Err(e) => anyhow::bail!("cannot read config file {}: {e}", path.display()),
    }
}

/// Resolves the API URL and token (flag/env values first) and builds a client.
pub fn client(api_url: Option<String>, token: Option<String>) -> anyhow::Result<crate::Client> {
    let path = path();
    let file = load(&path)?;
    let url = api_url.or(file.api_url).unwrap_or_else(|| DEFAULT_API_URL.to_string());
    let token = token.filter(|t| !t.is_empty()).or(file.token).filter(|t| !t.is_empty()).ok_or_else(|| {
        anyhow::anyhow!(
            "no API token: pass --token, set CRITICLOOP_API_TOKEN, or put token = \"...\" in {}",
            path.display()
        )
    })?;
    crate::Client::new(&url, &token)
}
