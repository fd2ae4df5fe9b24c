//! `criticloop-train`: DPO on a Hugging Face Qwen2 or LLaVA-OneVision checkpoint from a TRL-format JSONL
//! pair file (images, where pairs have them, are paths relative to the file).
//!
//! `criticloop-train dpo --base DIR --pairs pairs.jsonl --out DIR [options]` writes the trained model to
//! `OUT` (Hugging Face layout), one JSON line of metrics per step to `OUT/metrics.jsonl`, the rejected pairs
//! to `OUT/bad_pairs.jsonl`, and with `--save-steps N` resumable checkpoints to `OUT/checkpoint-STEP`;
//! `--resume` continues from the latest of them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use model::{Dtype, LoadOptions, parse_device};
use train::{CheckpointText, DpoConfig, DpoTrainer, LossType, Schedule, checkpoint};

#[derive(Parser)]
#[command(name = "criticloop-train", about = "DPO training on the in-process Qwen2 runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Direct preference optimisation of BASE on PAIRS.
    Dpo(DpoArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Loss {
    Sigmoid,
    Hinge,
    Ipo,
    Robust,
    /// Supervised fine-tuning on `prompt` + `chosen` (cross-entropy; `rejected` is ignored).
    Sft,
}

#[derive(Clone, Copy, ValueEnum)]
enum Sched {
    Linear,
    Cosine,
    Constant,
}

#[derive(clap::Args)]
struct DpoArgs {
    /// Starting checkpoint (also the frozen reference).
    #[arg(long)]
    base: PathBuf,
    /// JSONL pairs: {"id"?, "prompt", "chosen", "rejected"} (strings, or message lists for chat templates).
    #[arg(long)]
    pairs: PathBuf,
    #[arg(long)]
    out: PathBuf,
    /// A JSON file of options (DpoConfig keys, TRL names); the flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    beta: Option<f64>,
    #[arg(long, value_enum)]
    loss: Option<Loss>,
    #[arg(long)]
    label_smoothing: Option<f64>,
    /// γ of the SFT term γ·NLL(chosen).
    #[arg(long)]
    sft_weight: Option<f64>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    weight_decay: Option<f64>,
    #[arg(long, value_enum)]
    schedule: Option<Sched>,
    #[arg(long)]
    warmup_ratio: Option<f64>,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    grad_accum: Option<usize>,
    /// Gradient clipping norm; 0 disables clipping.
    #[arg(long)]
    max_grad_norm: Option<f64>,
    #[arg(long)]
    epochs: Option<u64>,
    #[arg(long)]
    max_steps: Option<u64>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    no_shuffle: bool,
    #[arg(long)]
    max_length: Option<usize>,
    #[arg(long)]
    precompute_ref: bool,
    /// Compute each pair's prompt once (one packed row per pair) instead of twice.
    #[arg(long)]
    shared_prompt: bool,
    /// Train only weights whose name starts with one of these prefixes (repeatable).
    #[arg(long)]
    trainable: Vec<String>,
    #[arg(long)]
    save_steps: Option<u64>,
    /// Mixed precision: float32 weights, matrix products in bfloat16 (transformers' `--bf16`).
    #[arg(long)]
    bf16: bool,
    /// Continue from the latest checkpoint under OUT, if there is one.
    #[arg(long)]
    resume: bool,
    #[arg(long, default_value = "cpu")]
    device: String,
    #[arg(long, default_value = "f32")]
    dtype: String,
}

fn config_of(a: &DpoArgs) -> Result<DpoConfig> {
    let mut c: DpoConfig = match &a.config {
        Some(p) => {
            serde_json::from_str(&std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?)
                .with_context(|| format!("{}: not a DPO configuration", p.display()))?
        }
        None => DpoConfig::default(),
    };
    macro_rules! set {
        ($($field:ident = $value:expr),* $(,)?) => { $( if let Some(v) = $value { c.$field = v; } )* };
    }
    set!(
        beta = a.beta,
        label_smoothing = a.label_smoothing,
        sft_weight = a.sft_weight,
        learning_rate = a.lr,
        weight_decay = a.weight_decay,
        warmup_ratio = a.warmup_ratio,
        per_device_train_batch_size = a.batch_size,
        gradient_accumulation_steps = a.grad_accum,
        num_train_epochs = a.epochs,
        seed = a.seed,
        max_length = a.max_length,
        save_steps = a.save_steps,
    );
    if let Some(l) = a.loss {
        c.loss_type = match l {
            Loss::Sigmoid => LossType::Sigmoid,
            Loss::Hinge => LossType::Hinge,
            Loss::Ipo => LossType::Ipo,
            Loss::Robust => LossType::Robust,
            Loss::Sft => LossType::Sft,
        };
    }
    if let Some(s) = a.schedule {
        c.lr_scheduler_type = match s {
            Sched::Linear => Schedule::Linear,
            Sched::Cosine => Schedule::Cosine,
            Sched::Constant => Schedule::Constant,
        };
    }
    if let Some(n) = a.max_grad_norm {
        c.max_grad_norm = (n > 0.0).then_some(n);
    }
    if a.max_steps.is_some() {
        c.max_steps = a.max_steps;
    }
    if a.no_shuffle {
        c.shuffle = false;
    }
    if a.shared_prompt {
        c.shared_prompt = true;
    }
    if a.precompute_ref {
        c.precompute_ref_log_probs = true;
    }
    if a.bf16 {
        c.bf16 = true;
    }
    if !a.trainable.is_empty() {
        c.trainable = a.trainable.clone();
    }
    c.validate()?;
    Ok(c)
}

fn write_lines<T: serde::Serialize>(path: &Path, items: impl IntoIterator<Item = T>, append: bool) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(append)
        .write(true)
        .truncate(!append)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    for item in items {
        writeln!(f, "{}", serde_json::to_string(&item)?)?;
    }
    Ok(())
}

/// Drops the metric lines of steps after `step` (a resumed run logs them again).
fn keep_metrics_until(path: &Path, step: u64) -> Result<()> {
    if !path.is_file() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let kept: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| step > 0 && v["step"].as_u64().is_some_and(|s| s <= step))
        .collect();
    write_lines(path, kept, false)
}

fn dpo(a: DpoArgs) -> Result<()> {
    let cfg = config_of(&a)?;
    let opts = LoadOptions { dtype: a.dtype.parse::<Dtype>()?, device: parse_device(&a.device)? };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let text = CheckpointText::from_dir(&a.base)?;
    // image references are paths, relative to the pair file's folder
    let folder = a.pairs.parent().map(Path::to_path_buf).unwrap_or_default();
    let load_image = move |r: &str| std::fs::read(folder.join(r)).map_err(|e| format!("reading {r}: {e}"));
    let set = text.pair_tokenizer(cfg.max_length, &load_image).read_jsonl(&a.pairs)?;
    drop(text);
    for b in &set.bad {
        eprintln!("skipped {b}");
    }
    let bad: Vec<serde_json::Value> = set
        .bad
        .iter()
        .map(|b| serde_json::json!({"id": b.id, "line": b.line, "reason": b.reason.to_string()}))
        .collect();
    write_lines(&a.out.join("bad_pairs.jsonl"), bad, false)?;
    eprintln!("{} pairs to train on, {} skipped", set.pairs.len(), set.bad.len());

    let latest = if a.resume { checkpoint::latest(&a.out)? } else { None };
    let mut trainer = match &latest {
        Some(dir) => {
            eprintln!("resuming from {}", dir.display());
            DpoTrainer::resume(dir, set.pairs, cfg, &opts)?
        }
        None => DpoTrainer::new(&a.base, set.pairs, cfg, &opts)?,
    };
    let metrics_path = a.out.join("metrics.jsonl");
    keep_metrics_until(&metrics_path, trainer.steps_done())?;
    let total = trainer.total_steps();
    let mut failed = None;
    trainer.train(Some(&a.out), |m| {
        eprintln!(
            "step {}/{total}: loss {:.4} margin {:.4} acc {:.2} ({:.2}s)",
            m.step, m.pairs.loss, m.pairs.rewards_margins, m.pairs.rewards_accuracies, m.seconds
        );
        if let Err(e) = write_lines(&metrics_path, [m], true) {
            failed.get_or_insert(e);
        }
    })?;
    if let Some(e) = failed {
        bail!("writing metrics: {e:#}");
    }
    trainer.save_model(&a.out)?;
    eprintln!("saved {}", a.out.display());
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Dpo(a) => dpo(a),
    }
}
