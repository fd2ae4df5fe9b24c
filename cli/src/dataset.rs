//! `criticloop dataset create -f prompts.jsonl --name NAME`.

use crate::Client;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum DatasetCommand {
    /// Upload a JSONL file of prompts (one `{"question", "image"?, "reference_answer"?}` per line); prints the id.
    Create {
        /// The JSONL file.
        #[arg(short = 'f', long = "file")]
        file: PathBuf,
        #[arg(long)]
        name: String,
    },
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Prompt {
    question: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_answer: Option<String>,
}

pub async fn run(cmd: DatasetCommand, client: &Client) -> anyhow::Result<()> {
    match cmd {
        DatasetCommand::Create { file, name } => {
            let prompts = read_prompts(&file)?;
            let created = client.post("/v1/datasets", &json!({"name": name, "prompts": prompts})).await?;
            println!("{}", created["id"].as_str().unwrap_or_default());
            Ok(())
        }
    }
}

/// Every line parsed, or the first bad line's number and what is wrong with it (nothing is sent).
pub fn read_prompts(path: &Path) -> anyhow::Result<Vec<Prompt>> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let mut prompts = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let prompt: Prompt = serde_json::from_str(line).map_err(|e| {
            anyhow::anyhow!(
                "{} line {}: {e}; expected {{\"question\": ..., \"image\"?: ..., \"reference_answer\"?: ...}} (nothing was sent)",
                path.display(),
                i + 1
            )
        })?;
        anyhow::ensure!(
            !prompt.question.trim().is_empty(),
            "{} line {}: `question` is empty (nothing was sent)",
            path.display(),
            i + 1
        );
        prompts.push(prompt);
    }
    anyhow::ensure!(!prompts.is_empty(), "{} has no prompts (nothing was sent)", path.display());
    Ok(prompts)
}
