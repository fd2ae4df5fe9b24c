//! `criticloop-heldout-eval`: the evaluation service's scores of a checkpoint on a held-out JSONL file, offline.
//! The rows are import-format rows (`criticloop world items`: `id`, `question`, `image` as a data: URI,
//! ground truth under `world`); the checkpoint answers them greedily through the tch backend's evaluator,
//! exactly as the evaluation worker runs it, and the suites are printed as JSON.
//!
//!     criticloop-heldout-eval --checkpoint DIR --items held-out.jsonl [--max-new-tokens 48] [--examples]
//!                             [--critic DIR [--round0 DIR] [--critic-template llava-critic/pairwise]]
//!
//! With `--critic`, the critic-judged suites run too: the relative score against the rows' reference answers,
//! and, with `--round0`, the comparison with that checkpoint's answers.

use std::path::PathBuf;

use anyhow::{Context, Result};
use artifacts::StoreConfig;
use backend::{BackendConfig, CriticSuites, EvalItem, EvaluateRequest, TchConfig};
use base64::Engine as _;
use clap::Parser;
use serde_json::Value;

#[derive(Parser)]
#[command(
    name = "criticloop-heldout-eval",
    about = "Score a checkpoint on held-out rows as the evaluation worker does"
)]
struct Args {
    #[arg(long)]
    checkpoint: PathBuf,
    #[arg(long)]
    items: PathBuf,
    #[arg(long, default_value_t = 48)]
    max_new_tokens: u32,
    /// Keep the suites' example answers in the output.
    #[arg(long)]
    examples: bool,
    /// A critic checkpoint: also run the critic-judged suites.
    #[arg(long)]
    critic: Option<PathBuf>,
    /// The policy to compare with (the campaign's round 0); default: the checkpoint itself (no comparison).
    #[arg(long, requires = "critic")]
    round0: Option<PathBuf>,
    /// The pairwise critic template of the comparison.
    #[arg(long, default_value = "llava-critic/pairwise")]
    critic_template: String,
}

fn main() -> Result<()> {
    let a = Args::parse();
    let root = std::env::temp_dir().join(format!("criticloop-heldout-eval-{}", std::process::id()));
    std::fs::create_dir_all(root.join("images"))?;
    let text = std::fs::read_to_string(&a.items).with_context(|| format!("reading {}", a.items.display()))?;
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).with_context(|| format!("line {}", n + 1))?;
        let field = |k: &str| row[k].as_str().map(str::to_string);
        let id = field("id").with_context(|| format!("line {}: no `id`", n + 1))?;
        let image = match field("image") {
            Some(uri) => {
                let data = uri.split_once(";base64,").map(|(_, d)| d).context("image: not a base64 data: URI")?;
                let path = root.join("images").join(format!("{n}.png"));
                std::fs::write(&path, base64::engine::general_purpose::STANDARD.decode(data)?)?;
                Some(path.display().to_string())
            }
            None => None,
        };
        items.push(EvalItem {
            id,
            question: field("question").with_context(|| format!("line {}: no `question`", n + 1))?,
            image,
            reference_answer: None,
            extra: Some(row),
        });
    }
    let config = TchConfig { device: "cpu".into(), work_dir: root.join("work"), ..TchConfig::default() };
    let backends = criticloop_backend_tch::build(&BackendConfig::Tch(config), &StoreConfig::local(root.join("store")))
        .map_err(anyhow::Error::msg)?;
    let request = EvaluateRequest {
        checkpoint_uri: a.checkpoint.display().to_string(),
        base_uri: String::new(),
        items,
        max_new_tokens: a.max_new_tokens,
        critic: a.critic.as_ref().map(|critic| CriticSuites {
            critic_uri: critic.display().to_string(),
            pairwise_template: a.critic_template.clone(),
            round0_uri: a.round0.as_ref().unwrap_or(&a.checkpoint).display().to_string(),
        }),
    };
    let suites = backends.evaluator.evaluate(&request).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut out = serde_json::Map::new();
    for (suite, mut metrics) in suites {
        if !a.examples
            && let Some(m) = metrics.as_object_mut()
        {
            m.remove("examples");
        }
        out.insert(suite, metrics);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
