//! `criticloop campaign create|list|status|watch|cancel|pause|resume`.

use crate::Client;
use serde_json::Value;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum CampaignCommand {
    /// Create a campaign from a TOML or JSON spec (the API's campaign spec); prints the id.
    Create {
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
    },
    /// List campaigns.
    List,
    /// A campaign's rounds: state, progress, counts, failures.
    Status { id: String },
    /// Follow a campaign until it ends; exits 0 if it completed, 1 otherwise.
    Watch {
        id: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
    /// Cancel a running or paused campaign.
    Cancel { id: String },
    /// Pause a running campaign.
    Pause { id: String },
    /// Resume a paused campaign.
    Resume { id: String },
}

pub async fn run(cmd: CampaignCommand, client: &Client) -> anyhow::Result<()> {
    match cmd {
        CampaignCommand::Create { file } => {
            let spec = read_spec(&file)?;
            let created = client.post("/v1/campaigns", &spec).await?;
            println!("{}", created["id"].as_str().unwrap_or_default());
        }
        CampaignCommand::List => {
            let list = client.get("/v1/campaigns").await?;
            println!("{:<36}  {:<10} {:>6}  {:<25} name", "id", "state", "rounds", "created");
            for c in list["campaigns"].as_array().into_iter().flatten() {
                println!(
                    "{:<36}  {:<10} {:>6}  {:<25} {}",
                    text(&c["id"]),
                    text(&c["state"]),
                    text(&c["rounds_total"]),
                    text(&c["created_at"]),
                    text(&c["name"])
                );
            }
        }
        CampaignCommand::Status { id } => {
            let view = client.get(&format!("/v1/campaigns/{id}")).await?;
            let failures = failures(client, &id, &view).await;
            print!("{}", status_table(&view, &failures));
        }
        CampaignCommand::Watch { id, interval } => crate::watch::run(client, &id, interval).await?,
        CampaignCommand::Cancel { id } => control(client, &id, "cancel").await?,
        CampaignCommand::Pause { id } => control(client, &id, "pause").await?,
        CampaignCommand::Resume { id } => control(client, &id, "resume").await?,
    }
    Ok(())
}

async fn control(client: &Client, id: &str, action: &str) -> anyhow::Result<()> {
    let view = client.post(&format!("/v1/campaigns/{id}/{action}"), &Value::Null).await?;
    println!("campaign {id}: {}", text(&view["state"]));
    Ok(())
}

/// The spec file as JSON, parsed as TOML, YAML or JSON by its extension.
pub fn read_spec(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
    let spec: Value = match ext.as_str() {
        "toml" => toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!("{} is not valid TOML: {}", path.display(), e.to_string().replace('\n', " "))
        })?,
        "json" => {
            serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not valid JSON: {e}", path.display()))?
        }
        "yaml" | "yml" => {
            serde_yaml_ng::from_str(&text).map_err(|e| anyhow::anyhow!("{} is not valid YAML: {e}", path.display()))?
        }
        _ => anyhow::bail!("{}: use a .toml, .yaml or .json campaign spec", path.display()),
    };
    anyhow::ensure!(spec.is_object(), "{}: the campaign spec must be a table/object", path.display());
    Ok(spec)
}

/// Each round's failures (dead and failed tasks), fetched only for rounds that report some.
async fn failures(client: &Client, id: &str, view: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for r in view["rounds"].as_array().into_iter().flatten() {
        if r["prompts_failed"].as_i64().unwrap_or(0) > 0 || r["state"] == "failed" {
            let n = text(&r["number"]);
            if let Ok(f) = client.get(&format!("/v1/campaigns/{id}/rounds/{n}/failures")).await {
                out.push((n, f["failures"].clone()));
            }
        }
    }
    out
}

pub fn status_table(view: &Value, failures: &[(String, Value)]) -> String {
    let mut s = format!(
        "campaign {} ({}): {}, {} round(s)\n",
        text(&view["id"]),
        text(&view["name"]),
        text(&view["state"]),
        text(&view["rounds_total"])
    );
    if let Some(reason) = view["failure_reason"].as_str() {
        s.push_str(&format!("failure: {reason}\n"));
    }
    s.push_str(&format!(
        "{:<6} {:<11} {:>7} {:>11} {:>11} {:>11} {:>8} {:>10} {:>9} {:>6} {:>7}\n",
        "round",
        "state",
        "prompts",
        "sampled",
        "judged",
        "aggregated",
        "samples",
        "judgments",
        "unparsed",
        "pairs",
        "failed"
    ));
    for r in view["rounds"].as_array().into_iter().flatten() {
        let total = text(&r["prompts_total"]);
        let of = |k: &str| format!("{}/{total}", text(&r["progress"][k]));
        let mut state = text(&r["state"]);
        if r["paused"] == true {
            state.push_str(" (p)");
        }
        s.push_str(&format!(
            "{:<6} {:<11} {:>7} {:>11} {:>11} {:>11} {:>8} {:>10} {:>9} {:>6} {:>7}\n",
            text(&r["number"]),
            state,
            total,
            of("sampling_done"),
            of("judging_done"),
            of("aggregating_done"),
            text(&r["counts"]["samples"]),
            text(&r["counts"]["judgments"]),
            text(&r["counts"]["unparsed_judgments"]),
            text(&r["counts"]["pairs"]),
            text(&r["prompts_failed"]),
        ));
        if let Some(reason) = r["failure_reason"].as_str() {
            s.push_str(&format!("       round {} failed: {reason}\n", text(&r["number"])));
        }
    }
    for (n, list) in failures {
        for f in list.as_array().into_iter().flatten().take(10) {
            s.push_str(&format!("       round {n} failure: {}\n", compact(f)));
        }
    }
    s
}

fn compact(v: &Value) -> String {
    let Some(o) = v.as_object() else { return v.to_string() };
    o.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| format!("{k}={}", text(v))).collect::<Vec<_>>().join(" ")
}

/// A JSON value as display text (strings unquoted, null as `-`).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}
