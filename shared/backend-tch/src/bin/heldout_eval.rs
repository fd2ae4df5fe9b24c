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

use anyhow::Result;
use artifacts::StoreConfig;
use backend::{BackendConfig, CriticSuites, EvalItem, EvaluateRequest, TchConfig};
use clap::Parser;
use criticloop_backend_tch::heldout_rows;

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
    let items = heldout_rows::read(&a.items, &root.join("images"))?
        .into_iter()
        .map(|r| EvalItem {
            id: r.id,
            question: r.question,
            image: r.image,
            reference_answer: None,
            extra: Some(r.row),
        })
        .collect();
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
