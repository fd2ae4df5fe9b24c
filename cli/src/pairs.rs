//! `criticloop pairs export CAMPAIGN_ID --round N --format llava|trl [-o FILE]`.

use crate::Client;
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// LLaVA-NeXT DPO: {"id", "image", "prompt", "chosen", "rejected"}
    Llava,
    /// TRL DPOTrainer: {"prompt", "chosen", "rejected", "images"}
    Trl,
}

#[derive(Debug, clap::Subcommand)]
pub enum PairsCommand {
    /// Write a round's chosen/rejected pairs as JSONL.
    Export {
        campaign_id: String,
        #[arg(long)]
        round: u32,
        #[arg(long, value_enum)]
        format: Format,
        /// Output file (default: stdout).
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
}

pub async fn run(cmd: PairsCommand, client: &Client) -> anyhow::Result<()> {
    let PairsCommand::Export { campaign_id, round, format, output } = cmd;
    let body = client.get_text(&format!("/v1/campaigns/{campaign_id}/rounds/{round}/pairs")).await?;
    let mut out = String::new();
    let mut n = 0;
    for (i, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let pair: Value = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("the API's pairs export line {} is not JSON: {e}", i + 1))?;
        out.push_str(&convert(&pair, format).to_string());
        out.push('\n');
        n += 1;
    }
    match output {
        Some(path) => {
            std::fs::write(&path, out).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("wrote {n} pairs to {}", path.display());
        }
        None => std::io::stdout().lock().write_all(out.as_bytes())?,
    }
    Ok(())
}

/// One API pair in the chosen layout. The image stays the API's `sha256:<hex>` reference to the stored image
/// (fetch it from `/v1/artifacts/{sha256}`), so an exported pair set points at the dataset's own images.
pub fn convert(p: &Value, format: Format) -> Value {
    match format {
        Format::Llava => json!({
            "id": p["id"], "image": p["image"], "prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"],
        }),
        Format::Trl => {
            let images: Vec<Value> =
                p["image"].as_str().filter(|s| !s.is_empty()).map(|s| json!(s)).into_iter().collect();
            json!({"prompt": p["prompt"], "chosen": p["chosen"], "rejected": p["rejected"], "images": images})
        }
    }
}
