//! `dpo_resume_*`: a run killed mid-epoch resumes from its last checkpoint and ends with the weights of an
//! uninterrupted run.

use anyhow::{Context, Result};
use model::LoadOptions;
use model::tch::Device;
use train::checkpoint;
use train::{DpoConfig, DpoTrainer, TokenizedPair};

use crate::parity::{TEXT_PAIRS, VISION_PAIRS, base_config, tokenize};
use crate::support::{TempDir, checkpoint as fixture};

pub const MORE_PAIRS: &str = r#"{"id": "more1", "prompt": "The better response", "chosen": " is the first.", "rejected": " is unclear."}
{"id": "more2", "prompt": "Score the response", "chosen": " out of 100: 90.", "rejected": " qqq ZZZ."}
"#;

/// A run: the checkpoint, its pairs and options.
struct Run {
    checkpoint: &'static str,
    pairs: String,
    config: DpoConfig,
}

impl Run {
    fn text(precompute: bool) -> Self {
        Run { checkpoint: "qwen2", pairs: format!("{TEXT_PAIRS}{MORE_PAIRS}"), config: run_config(precompute) }
    }

    /// LLaVA-OneVision with images, in the packed layout (one row per pair, its images once).
    fn vision() -> Self {
        let config = DpoConfig { learning_rate: 1e-2, shared_prompt: true, ..run_config(false) };
        Run { checkpoint: "llava-ov", pairs: VISION_PAIRS.to_string(), config }
    }

    fn pairs(&self) -> Result<Vec<TokenizedPair>> {
        let set = tokenize(&fixture(self.checkpoint), &self.pairs, 1024)?;
        assert!(set.bad.is_empty(), "{:?}", set.bad);
        Ok(set.pairs)
    }
}

fn run_config(precompute: bool) -> DpoConfig {
    // 6 pairs, batch 1 x accumulation 2: 3 steps per epoch, 2 epochs, shuffled; checkpoints every 2 steps
    // fall mid-epoch (steps 2 and 4)
    DpoConfig {
        per_device_train_batch_size: 1,
        gradient_accumulation_steps: 2,
        max_steps: None,
        num_train_epochs: 2,
        shuffle: true,
        seed: 3,
        save_steps: 2,
        weight_decay: 0.01,
        lr_scheduler_type: train::Schedule::Cosine,
        warmup_ratio: 0.2,
        precompute_ref_log_probs: precompute,
        ..base_config()
    }
}

fn max_weight_diff(a: &DpoTrainer, b: &DpoTrainer) -> Result<f64> {
    let wa = a.policy().named_weights();
    let wb = b.policy().named_weights();
    let mut max = 0.0f64;
    for ((na, ta), (nb, tb)) in wa.iter().zip(&wb) {
        assert_eq!(na, nb);
        max = max.max((ta.to_device(Device::Cpu) - tb.to_device(Device::Cpu)).abs().max().double_value(&[]));
    }
    Ok(max)
}

fn killed_run_resumes(run: Run, total: usize) -> Result<()> {
    let base = fixture(run.checkpoint);
    let cfg = run.config.clone();
    let opts = LoadOptions::default();

    let mut whole = DpoTrainer::new(&base, run.pairs()?, cfg.clone(), &opts)?;
    let mut whole_losses = Vec::new();
    whole.train(None, |m| whole_losses.push(m.pairs.loss))?;
    assert_eq!(whole_losses.len(), total);

    let out = TempDir::new("resume")?;
    let mut first = DpoTrainer::new(&base, run.pairs()?, cfg.clone(), &opts)?;
    let mut losses = Vec::new();
    for _ in 0..total - 1 {
        losses.push(first.step()?.pairs.loss);
        if first.steps_done() % cfg.save_steps == 0 {
            first.save_checkpoint(out.path())?;
        }
    }
    // killed during the last step's checkpoint write: a half-written checkpoint is left under its
    // temporary name
    std::fs::create_dir_all(out.path().join(format!(".checkpoint-{total}.tmp")))?;
    drop(first);

    let saved = ((total - 1) / 2 * 2) as u64;
    let last = checkpoint::latest(out.path())?.context("a checkpoint")?;
    assert_eq!(last.file_name().and_then(|n| n.to_str()), Some(format!("checkpoint-{saved}").as_str()));
    let mut resumed = DpoTrainer::resume(&last, run.pairs()?, cfg.clone(), &opts)?;
    assert_eq!(resumed.steps_done(), saved);
    losses.truncate(saved as usize);
    resumed.train(Some(out.path()), |m| losses.push(m.pairs.loss))?;
    assert_eq!(losses, whole_losses, "the same loss at every step");
    let diff = max_weight_diff(&whole, &resumed)?;
    assert_eq!(diff, 0.0, "resumed weights differ from the uninterrupted run's by {diff:e}");
    assert!(out.path().join(format!("checkpoint-{total}")).join("model.safetensors").is_file());

    // a resume with other options or other pairs is refused
    let other = DpoConfig { beta: 0.2, ..cfg.clone() };
    assert!(DpoTrainer::resume(&last, run.pairs()?, other, &opts).is_err());
    let mut fewer = run.pairs()?;
    fewer.pop();
    assert!(DpoTrainer::resume(&last, fewer, cfg, &opts).is_err());
    Ok(())
}

#[test]
fn dpo_resume_mid_epoch_matches_uninterrupted_run() -> Result<()> {
    killed_run_resumes(Run::text(false), 6)
}

/// 3 pairs, batch 1 x accumulation 2: 2 steps per epoch, 2 epochs.
#[test]
fn dpo_resume_llava_onevision_with_images_packed() -> Result<()> {
    killed_run_resumes(Run::vision(), 4)
}

/// In mixed precision, with the reference log-probs computed once (in bf16) and saved with the checkpoint.
#[test]
fn dpo_resume_bf16_with_precomputed_reference() -> Result<()> {
    let mut run = Run::text(true);
    run.config.bf16 = true;
    killed_run_resumes(run, 6)
}
