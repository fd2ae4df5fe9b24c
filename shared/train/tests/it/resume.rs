//! `dpo_resume_*`: a run killed mid-epoch resumes from its last checkpoint and ends with the weights of an
//! uninterrupted run.

use anyhow::{Context, Result};
use model::LoadOptions;
use model::tch::Device;
use train::checkpoint;
use train::{DpoConfig, DpoTrainer, TokenizedPair};

use crate::parity::{TEXT_PAIRS, base_config, tokenize};
use crate::support::{TempDir, checkpoint as fixture};

pub const MORE_PAIRS: &str = r#"{"id": "more1", "prompt": "The better response", "chosen": " is the first.", "rejected": " is unclear."}
{"id": "more2", "prompt": "Score the response", "chosen": " out of 100: 90.", "rejected": " qqq ZZZ."}
"#;

fn pairs() -> Result<Vec<TokenizedPair>> {
    let set = tokenize(&fixture("qwen2"), &format!("{TEXT_PAIRS}{MORE_PAIRS}"), 1024)?;
    assert!(set.bad.is_empty(), "{:?}", set.bad);
    Ok(set.pairs)
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

fn killed_run_resumes(precompute: bool) -> Result<()> {
    let base = fixture("qwen2");
    let cfg = run_config(precompute);
    let opts = LoadOptions::default();

    let mut whole = DpoTrainer::new(&base, pairs()?, cfg.clone(), &opts)?;
    let mut whole_losses = Vec::new();
    whole.train(None, |m| whole_losses.push(m.pairs.loss))?;
    assert_eq!(whole_losses.len(), 6);

    let out = TempDir::new("resume")?;
    let mut first = DpoTrainer::new(&base, pairs()?, cfg.clone(), &opts)?;
    let mut losses = Vec::new();
    for _ in 0..5 {
        losses.push(first.step()?.pairs.loss);
        if first.steps_done() % cfg.save_steps == 0 {
            first.save_checkpoint(out.path())?;
        }
    }
    // killed during step 5's checkpoint write: a half-written checkpoint is left under its temporary name
    std::fs::create_dir_all(out.path().join(".checkpoint-6.tmp"))?;
    drop(first);

    let last = checkpoint::latest(out.path())?.context("a checkpoint")?;
    assert_eq!(last.file_name().and_then(|n| n.to_str()), Some("checkpoint-4"));
    let mut resumed = DpoTrainer::resume(&last, pairs()?, cfg.clone(), &opts)?;
    assert_eq!(resumed.steps_done(), 4);
    losses.truncate(4);
    resumed.train(Some(out.path()), |m| losses.push(m.pairs.loss))?;
    assert_eq!(losses, whole_losses, "the same loss at every step");
    let diff = max_weight_diff(&whole, &resumed)?;
    assert_eq!(diff, 0.0, "resumed weights differ from the uninterrupted run's by {diff:e}");
    assert!(out.path().join("checkpoint-6").join("model.safetensors").is_file());

    // a resume with other options or other pairs is refused
    let other = DpoConfig { beta: 0.2, ..cfg.clone() };
    assert!(DpoTrainer::resume(&last, pairs()?, other, &opts).is_err());
    let mut fewer = pairs()?;
    fewer.pop();
    assert!(DpoTrainer::resume(&last, fewer, cfg, &opts).is_err());
    Ok(())
}

#[test]
fn dpo_resume_mid_epoch_matches_uninterrupted_run() -> Result<()> {
    killed_run_resumes(false)
}

#[test]
fn dpo_resume_with_precomputed_reference() -> Result<()> {
    killed_run_resumes(true)
}
