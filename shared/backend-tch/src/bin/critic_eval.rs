//! `criticloop-critic-eval`: a critic checkpoint's pairwise verdicts on held-out world rows, against the
//! ground truth. Each row gets two responses, either sampled from a policy checkpoint (`--policy`, as a
//! round samples them) or drawn from the world's response model at a given quality; the critic judges the
//! pair in both orders with LLaVA-Critic's pairwise prompt, as the judging worker does, and the report gives
//! the pairwise accuracy with and without ties, the share of inverted verdicts, position consistency, and
//! the same per kind of item (short answers, descriptions), as JSON.
//!
//!     criticloop-critic-eval --critic DIR --items held-out.jsonl [--policy DIR | --quality 0.6]
//!                            [--seed 0] [--examples 3]

use std::path::PathBuf;

use anyhow::{Context, Result};
use artifacts::StoreConfig;
use backend::{BackendConfig, GenerateRequest, JudgeRequest, TchConfig};
use clap::Parser;
use criticloop_backend_tch::heldout_rows;
use serde_json::json;
use world::critic_accuracy::{OrderedJudgment, preference, report};
use world::{Item, SplitMix64, pairwise_judgment, parse_truth, sample_response};

#[derive(Parser)]
#[command(
    name = "criticloop-critic-eval",
    about = "A critic's pairwise accuracy against a generated world's ground truth"
)]
struct Args {
    #[arg(long)]
    critic: PathBuf,
    /// Held-out rows (`criticloop world items`).
    #[arg(long)]
    items: PathBuf,
    /// Sample the two responses from this policy checkpoint (temperature sampling) instead of the world.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// Without `--policy`: the share of each drawn response that is right.
    #[arg(long, default_value_t = 0.6)]
    quality: f64,
    #[arg(long, default_value_t = 1.0)]
    temperature: f64,
    /// Longest sampled response in tokens (with `--policy`).
    #[arg(long, default_value_t = 48)]
    max_new_tokens: u32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "llava-critic/pairwise")]
    template: String,
    /// Longest critic output in tokens: a world judgment of two descriptions, each mention looked up by
    /// shape, colour and size, runs to about 500 (session 22); the judging service's default is 512 too.
    #[arg(long, default_value_t = 512)]
    critic_max_new_tokens: usize,
    /// Judge requests per forward pass.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Judged pairs to print with the critic's text.
    #[arg(long, default_value_t = 0)]
    examples: usize,
}

fn main() -> Result<()> {
    let a = Args::parse();
    anyhow::ensure!(a.batch > 0, "--batch: must be at least 1");
    let template =
        critic::templates::get(&a.template).with_context(|| format!("--template: unknown `{}`", a.template))?;
    let root = std::env::temp_dir().join(format!("criticloop-critic-eval-{}", std::process::id()));
    let rows = heldout_rows::read(&a.items, &root.join("images"))?;
    let mut items = Vec::new();
    for row in &rows {
        let truth =
            parse_truth(&row.row["world"]).with_context(|| format!("row {}: no `world` ground truth", row.id))?;
        items.push(Item { id: row.id.clone(), question: row.question.clone(), truth });
    }
    let config = TchConfig {
        device: "cpu".into(),
        work_dir: root.join("work"),
        judge_batch_size: a.batch,
        critic_max_new_tokens: a.critic_max_new_tokens,
        ..TchConfig::default()
    };
    let backends = criticloop_backend_tch::build(&BackendConfig::Tch(config), &StoreConfig::local(root.join("store")))
        .map_err(anyhow::Error::msg)?;

    let responses: Vec<(String, String)> = match &a.policy {
        Some(policy) => {
            let requests: Vec<GenerateRequest> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| GenerateRequest {
                    question: r.question.clone(),
                    image: r.image.clone(),
                    checkpoint_uri: policy.display().to_string(),
                    samples: 2,
                    seed: a.seed.wrapping_mul(1_000_003).wrapping_add(i as u64),
                    temperature: a.temperature,
                    top_p: 1.0,
                    max_new_tokens: a.max_new_tokens,
                })
                .collect();
            let mut out = Vec::new();
            for chunk in requests.chunks(8) {
                for (r, result) in chunk.iter().zip(backends.policy.generate(chunk)) {
                    let samples = result.map_err(|e| anyhow::anyhow!("sampling `{}`: {e}", r.question))?;
                    out.push((samples[0].clone(), samples[1].clone()));
                }
            }
            out
        }
        None => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let mut rng = SplitMix64::new(world::rng::derive(a.seed, i as u64));
                (sample_response(item, &mut rng, a.quality), sample_response(item, &mut rng, a.quality))
            })
            .collect(),
    };

    // both orders of every pair whose responses differ
    let mut shown = Vec::new();
    for (pair, (x, y)) in responses.iter().enumerate() {
        if x.trim() == y.trim() {
            continue;
        }
        for swapped in [false, true] {
            let (first, second) = if swapped { (y, x) } else { (x, y) };
            shown.push((pair, swapped, first.clone(), second.clone()));
        }
    }
    let identical = items.len() - shown.len() / 2;
    let requests: Vec<JudgeRequest> = shown
        .iter()
        .map(|(pair, _, first, second)| {
            Ok(JudgeRequest {
                prompt: template.render(&critic::Fields::pairwise(&items[*pair].question, first, second))?,
                question: items[*pair].question.clone(),
                image: rows[*pair].image.clone(),
                first: first.clone(),
                second: Some(second.clone()),
                critic_uri: a.critic.display().to_string(),
                format: template.format,
                truth: None,
            })
        })
        .collect::<Result<_>>()?;
    let mut texts = Vec::new();
    for (n, chunk) in requests.chunks(a.batch).enumerate() {
        for result in backends.critic.judge(chunk) {
            texts.push(result.map_err(|e| anyhow::anyhow!("judging: {e}"))?);
        }
        eprintln!("[critic-eval] judged {} of {}", (n * a.batch + chunk.len()), requests.len());
    }
    let mut judgments = Vec::new();
    let mut examples = Vec::new();
    for ((pair, swapped, first, second), text) in shown.iter().zip(&texts) {
        let item = &items[*pair];
        let (oracle, reasons) = pairwise_judgment(&item.question, &item.truth, first, second);
        let critic = critic::parse(template.format, text).verdict().and_then(critic::Verdict::preference);
        judgments.push(OrderedJudgment {
            pair: *pair,
            swapped: *swapped,
            short: item.truth.answer.is_some(),
            oracle: preference(oracle),
            critic,
        });
        if examples.len() < a.examples {
            examples.push(json!({"id": item.id, "question": item.question, "first": first, "second": second,
                "critic": text, "ground_truth": reasons}));
        }
    }
    let mut out = report(&judgments);
    out["pairs"] = json!(shown.len() / 2);
    out["identical_pairs_skipped"] = json!(identical);
    out["responses"] = json!(match &a.policy {
        Some(p) => format!("sampled from {} at temperature {}", p.display(), a.temperature),
        None => format!("drawn from the world at quality {}", a.quality),
    });
    if a.examples > 0 {
        out["examples"] = json!(examples);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    let _ = std::fs::remove_dir_all(&root);
    Ok(())
}
