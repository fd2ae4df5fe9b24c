//! `criticloop-judge-bench`: judge tasks per second of the tch critic at several batch sizes
//! (`CRITICLOOP_BACKEND__JUDGE_BATCH_SIZE`: judge requests per forward pass), on the same checkpoint,
//! requests and image, in one run. The requests are LLaVA-Critic's released pairwise prompt over distinct
//! response pairs; each batch size gets a fresh backend, one warm-up call (the model load), then the
//! timed calls.
//!
//!     criticloop-judge-bench --critic DIR --image FILE [--requests 32] [--batch 1,4,8] [--max-new-tokens 32]

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use artifacts::StoreConfig;
use backend::{BackendConfig, JudgeRequest, TchConfig};
use clap::Parser;
use critic::templates::Fields;

#[derive(Parser)]
#[command(name = "criticloop-judge-bench", about = "tch critic throughput by batch size")]
struct Args {
    /// The critic checkpoint folder (LLaVA-OneVision or Qwen2).
    #[arg(long)]
    critic: PathBuf,
    /// An image shown with every request (omit for text-only requests).
    #[arg(long)]
    image: Option<PathBuf>,
    #[arg(long, default_value_t = 32)]
    requests: usize,
    #[arg(long, value_delimiter = ',', default_value = "1,4,8")]
    batch: Vec<usize>,
    #[arg(long, default_value_t = 32)]
    max_new_tokens: usize,
    /// Timed calls per batch size (the figure is their mean).
    #[arg(long, default_value_t = 2)]
    repeats: usize,
}

fn main() -> Result<()> {
    let a = Args::parse();
    let template = critic::templates::get("llava-critic/pairwise").context("the pairwise template")?;
    let answers = ["A red circle.", "Two blue squares and a green triangle.", "Nothing at all.", "A large cross."];
    let requests: Vec<JudgeRequest> = (0..a.requests)
        .map(|i| {
            let (r1, r2) = (answers[i % answers.len()], answers[(i / answers.len() + i + 1) % answers.len()]);
            let question = format!("Describe the image ({i}).");
            let prompt = template.render(&Fields::pairwise(&question, r1, r2))?;
            Ok(JudgeRequest {
                prompt,
                question,
                image: a.image.as_ref().map(|p| p.display().to_string()),
                first: r1.to_string(),
                second: Some(r2.to_string()),
                critic_uri: a.critic.display().to_string(),
                format: critic::OutputFormat::CriticPairwise,
                truth: None,
            })
        })
        .collect::<Result<_>>()?;
    let root = std::env::temp_dir().join(format!("criticloop-judge-bench-{}", std::process::id()));
    println!(
        "critic {} | {} requests (pairwise, {}) | max {} new tokens, greedy | CPU float32, {} torch threads",
        a.critic.display(),
        a.requests,
        if a.image.is_some() { "with an image" } else { "text only" },
        a.max_new_tokens,
        model::tch::get_num_threads()
    );
    let mut base = None;
    for &b in &a.batch {
        let config = TchConfig {
            device: "cpu".into(),
            work_dir: root.join(format!("work-{b}")),
            judge_batch_size: b,
            critic_max_new_tokens: a.max_new_tokens,
            ..TchConfig::default()
        };
        let backends =
            criticloop_backend_tch::build(&BackendConfig::Tch(config), &StoreConfig::local(root.join("store")))
                .map_err(anyhow::Error::msg)?;
        let warm = backends.critic.judge(&requests[..1]);
        anyhow::ensure!(warm.iter().all(Result::is_ok), "warm-up failed: {warm:?}");
        let started = Instant::now();
        for _ in 0..a.repeats {
            let out = backends.critic.judge(&requests);
            if let Some(Err(e)) = out.iter().find(|r| r.is_err()) {
                anyhow::bail!("batch {b}: {e}");
            }
        }
        let per_s = (a.requests * a.repeats) as f64 / started.elapsed().as_secs_f64();
        let speedup = base.map_or(String::new(), |b1: f64| format!(" ({:.2}x batch {})", per_s / b1, a.batch[0]));
        base.get_or_insert(per_s);
        println!("judge batch {b:>3}: {per_s:8.2} judge tasks/s{speedup}");
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
