//! `criticloop dataset create|import|list|show|delete|export`.

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
    /// Import a dataset file: images checked once and stored by sha256, rows with their image references.
    /// Prints the dataset id; rejected rows are listed with their numbers and reasons.
    Import {
        /// The file (for parquet, a `pairwise/` or `pointwise/` folder marks LLaVA-Critic training data).
        path: PathBuf,
        /// llava-json (a JSON array; images from --images), jsonl or parquet.
        #[arg(long)]
        format: String,
        /// The image folder of a llava-json file (default: the file's folder); images are sent inline.
        #[arg(long)]
        images: Option<PathBuf>,
        /// The new dataset's name (default: the file name); importing the same file under it again changes nothing.
        #[arg(long)]
        name: Option<String>,
        /// Import into this existing dataset instead.
        #[arg(long)]
        dataset: Option<String>,
        /// prompt, critic_pointwise or critic_pairwise (default: from the path, else prompt).
        #[arg(long)]
        kind: Option<String>,
    },
    /// The datasets, newest first.
    List,
    /// A dataset: rows by kind and its imports.
    Show { id: String },
    /// Delete a dataset and its rows (refused while a campaign uses it); its images go at the next
    /// `criticloop artifacts gc`.
    Delete { id: String },
    /// Every row as JSONL (images as sha256: references, downloadable from /v1/artifacts/{sha256}).
    Export {
        id: String,
        /// Write here instead of stdout.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
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
        DatasetCommand::Import { path, format, images, name, dataset, kind } => {
            let args = crate::dataset_import::ImportArgs { path, format, images, name, dataset, kind };
            crate::dataset_import::run(args, client).await
        }
        DatasetCommand::List => {
            let list = client.get("/v1/datasets").await?;
            for d in list["datasets"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<24} {:>9} rows  {:>3} imports  {}",
                    d["id"].as_str().unwrap_or("?"),
                    d["name"].as_str().unwrap_or("?"),
                    d["rows"],
                    d["imports"],
                    d["created_at"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        DatasetCommand::Show { id } => {
            let ds = client.get(&format!("/v1/datasets/{id}")).await?;
            println!("{}", serde_json::to_string_pretty(&ds)?);
            Ok(())
        }
        DatasetCommand::Delete { id } => {
            let done = client.delete(&format!("/v1/datasets/{id}")).await?;
            eprintln!("deleted dataset {id} ({} rows)", done["rows"]);
            Ok(())
        }
        DatasetCommand::Export { id, output } => export(client, &id, output).await,
    }
}

async fn export(client: &Client, id: &str, output: Option<PathBuf>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut resp = client.get_stream(&format!("/v1/datasets/{id}/export")).await?;
    let mut out: Box<dyn Write> = match &output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut rows = 0usize;
    while let Some(chunk) = resp.chunk().await.map_err(|e| anyhow::anyhow!("the export stream broke off: {e}"))? {
        rows += chunk.iter().filter(|&&b| b == b'\n').count();
        out.write_all(&chunk)?;
    }
    out.flush()?;
    if let Some(p) = output {
        eprintln!("{rows} rows written to {}", p.display());
    }
    Ok(())
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
