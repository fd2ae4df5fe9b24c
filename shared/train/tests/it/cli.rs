//! The `criticloop-train` binary: a run killed with SIGKILL after a checkpoint resumes with `--resume` and ends
//! with the weights of an uninterrupted run; bad pairs land in `bad_pairs.jsonl`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use model::tch::Tensor;

use crate::parity::TEXT_PAIRS;
use crate::resume::MORE_PAIRS;
use crate::support::{TempDir, checkpoint};

const BIN: &str = env!("CARGO_BIN_EXE_criticloop-train");

fn command(pairs: &Path, out: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("dpo")
        .arg("--base")
        .arg(checkpoint("qwen2"))
        .arg("--pairs")
        .arg(pairs)
        .arg("--out")
        .arg(out)
        .args(["--lr", "0.01", "--batch-size", "1", "--grad-accum", "2", "--epochs", "8", "--save-steps", "2"])
        .args(["--schedule", "cosine", "--warmup-ratio", "0.1", "--seed", "5"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn weights(dir: &Path) -> Result<Vec<(String, Tensor)>> {
    let mut w = Tensor::read_safetensors(dir.join("model.safetensors"))?;
    w.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(w)
}

#[test]
fn dpo_resume_cli_after_sigkill_matches_uninterrupted_run() -> Result<()> {
    let tmp = TempDir::new("cli")?;
    let pairs = tmp.path().join("pairs.jsonl");
    let bad = r#"{"id": "empty", "prompt": "A critic model", "chosen": "", "rejected": " no."}"#;
    std::fs::write(&pairs, format!("{TEXT_PAIRS}{MORE_PAIRS}{bad}\n"))?;

    let whole = tmp.path().join("whole");
    let status = command(&pairs, &whole).status()?;
    assert!(status.success(), "uninterrupted run: {status}");
    let bad_report = std::fs::read_to_string(whole.join("bad_pairs.jsonl"))?;
    assert!(bad_report.contains("\"id\":\"empty\"") && bad_report.contains("empty"), "{bad_report}");
    let metrics = std::fs::read_to_string(whole.join("metrics.jsonl"))?;
    assert_eq!(metrics.lines().count(), 24, "6 pairs, 3 steps per epoch, 8 epochs");

    let killed = tmp.path().join("killed");
    let mut child = command(&pairs, &killed).spawn()?;
    let started = Instant::now();
    while !killed.join("checkpoint-2").join("trainer_state.json").is_file() {
        if child.try_wait()?.is_some() {
            bail!("the run ended before its first checkpoint");
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill()?;
            bail!("no checkpoint after 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let was_running = child.try_wait()?.is_none();
    child.kill()?; // SIGKILL
    child.wait()?;
    assert!(was_running, "the run finished before it could be killed");
    assert!(!killed.join("checkpoint-24").exists(), "killed before the end");

    let status = command(&pairs, &killed).arg("--resume").status()?;
    assert!(status.success(), "resumed run: {status}");
    let (a, b) = (weights(&whole)?, weights(&killed)?);
    assert_eq!(a.len(), b.len());
    for ((na, ta), (nb, tb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        let d = (ta - tb).abs().max().double_value(&[]);
        assert_eq!(d, 0.0, "{na}: resumed weights differ by {d:e}");
    }
    let resumed = std::fs::read_to_string(killed.join("metrics.jsonl")).context("metrics")?;
    let steps: Vec<u64> =
        resumed.lines().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["step"].as_u64()).collect();
    assert_eq!(steps, (1..=24).collect::<Vec<_>>(), "one metrics line per step after the resume");
    Ok(())
}
