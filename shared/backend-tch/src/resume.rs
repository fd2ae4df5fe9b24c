//! Mid-run checkpoints of the tch trainer. A run's folder is named by what it trains (base, pairs, the
//! round's and the backend's options), so the next attempt of a task whose training service was killed
//! finds the checkpoint the killed one left (`checkpoints/checkpoint-STEP`: weights, AdamW state, step) and
//! the step metrics it had logged (`history.jsonl`), and continues from that step; the data order is a
//! function of the seed and the step, so the run ends as an uninterrupted one would (`dpo_resume_*`).

use std::io::Write;
use std::path::{Path, PathBuf};

use backend::{TchConfig, TrainRequest};
use model::LoadOptions;
use sha2::{Digest, Sha256};
use train::{DpoConfig, DpoTrainer, StepMetrics, TokenizedPair, TrainError};

/// The run's identity: a digest of everything its result depends on.
pub fn run_key(request: &TrainRequest, config: &TchConfig) -> String {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(request.base_uri.as_bytes());
    for p in &request.pairs {
        for text in [&p.id, &p.prompt, p.image.as_deref().unwrap_or(""), &p.chosen, &p.rejected] {
            field(text.as_bytes());
        }
    }
    let options = format!("{} {} {} {} {config:?}", request.beta, request.learning_rate, request.epochs, request.seed);
    field(options.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// The step metrics logged so far, one JSON object per line.
pub struct History {
    path: PathBuf,
}

impl History {
    pub fn new(run: &Path) -> Self {
        History { path: run.join("history.jsonl") }
    }

    /// The logged steps up to `step` (a killed run may have logged steps after its last checkpoint).
    pub fn until(&self, step: u64) -> Vec<StepMetrics> {
        let text = std::fs::read_to_string(&self.path).unwrap_or_default();
        text.lines().filter_map(|l| serde_json::from_str::<StepMetrics>(l).ok()).filter(|m| m.step <= step).collect()
    }

    /// Rewrites the file with `steps` (after a resume drops the steps past the checkpoint).
    pub fn reset(&self, steps: &[StepMetrics]) -> std::io::Result<()> {
        let mut text = String::new();
        for s in steps {
            text.push_str(&serde_json::to_string(s).map_err(std::io::Error::other)?);
            text.push('\n');
        }
        std::fs::write(&self.path, text)
    }

    pub fn append(&self, step: &StepMetrics) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        writeln!(f, "{}", serde_json::to_string(step).map_err(std::io::Error::other)?)
    }
}

/// A trainer continuing from the latest complete checkpoint under `checkpoints` when there is one that
/// matches (same options and pairs), else a new one from `base`; and the step it starts at.
pub fn start_or_resume(
    base: &Path,
    checkpoints: &Path,
    pairs: Vec<TokenizedPair>,
    cfg: DpoConfig,
    load: &LoadOptions,
) -> Result<(DpoTrainer, u64), TrainError> {
    if let Some(latest) = train::checkpoint::latest(checkpoints)? {
        match DpoTrainer::resume(&latest, pairs.clone(), cfg.clone(), load) {
            Ok(trainer) => {
                let step = trainer.steps_done();
                tracing::info!(checkpoint = %latest.display(), step, "resuming the run from its last checkpoint");
                return Ok((trainer, step));
            }
            Err(e @ TrainError::Checkpoint { .. }) => {
                tracing::warn!(error = %e, "the run's checkpoint does not match it; starting over");
                let _ = std::fs::remove_dir_all(checkpoints);
            }
            Err(e) => return Err(e),
        }
    }
    Ok((DpoTrainer::new(base, pairs, cfg, load)?, 0))
}

/// Runs not touched for this long are not coming back (their round was resumed elsewhere, or failed):
/// [`remove_stale`] deletes their folders.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);

/// Removes the `resumable-*` run folders under `runs` whose last change is older than `after`; returns
/// how many it removed.
pub fn remove_stale(runs: &Path, after: std::time::Duration) -> usize {
    let mut removed = 0;
    for entry in std::fs::read_dir(runs).into_iter().flatten().flatten() {
        let path = entry.path();
        let stale = entry.file_name().to_string_lossy().starts_with("resumable-")
            && latest_change(&path, 2).and_then(|t| t.elapsed().ok()).is_some_and(|age| age > after);
        if stale && std::fs::remove_dir_all(&path).is_ok() {
            tracing::info!(run = %path.display(), "removed a stale run folder");
            removed += 1;
        }
    }
    removed
}

/// The newest modification time of `path` and, `depth` levels down, what it holds (a run folder, its
/// `checkpoints/` and `model/`, and their files: depth 2).
fn latest_change(path: &Path, depth: u32) -> Option<std::time::SystemTime> {
    let own = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    let inner = (depth > 0)
        .then(|| std::fs::read_dir(path).ok())
        .flatten()
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| latest_change(&e.path(), depth - 1));
    Some(inner.fold(own, std::cmp::max))
}

/// Writes a checkpoint and removes the older ones (a checkpoint holds the whole model and its optimizer
/// state: only the latest is worth its disk).
pub fn save(trainer: &DpoTrainer, checkpoints: &Path) -> Result<(), TrainError> {
    let written = trainer.save_checkpoint(checkpoints)?;
    for entry in std::fs::read_dir(checkpoints).into_iter().flatten().flatten() {
        let path = entry.path();
        if path != written && entry.file_name().to_string_lossy().starts_with("checkpoint-") {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_stale_resumable_run_folders_are_removed() {
        let runs = std::env::temp_dir().join(format!("criticloop-stale-runs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&runs);
        for name in ["resumable-old", "resumable-new", "resumable-touched", "12-34-0"] {
            std::fs::create_dir_all(runs.join(name).join("checkpoints")).expect("mkdir");
            std::fs::write(runs.join(name).join("history.jsonl"), "").expect("write");
        }
        let ten_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(10 * 24 * 3600);
        let age = |path: PathBuf| {
            std::fs::File::open(&path).and_then(|f| f.set_modified(ten_days_ago)).expect("set mtime");
        };
        for name in ["resumable-old", "resumable-touched", "12-34-0"] {
            for part in ["history.jsonl", "checkpoints", ""] {
                age(runs.join(name).join(part));
            }
        }
        // a checkpoint written inside an old folder keeps it
        std::fs::write(runs.join("resumable-touched").join("checkpoints").join("checkpoint-2"), "x").expect("write");
        age(runs.join("resumable-touched").join("checkpoints"));
        assert_eq!(remove_stale(&runs, STALE_AFTER), 1);
        assert!(!runs.join("resumable-old").exists());
        assert!(runs.join("resumable-new").exists(), "a new run is kept");
        assert!(runs.join("resumable-touched").exists(), "a run with a recent checkpoint is kept");
        assert!(runs.join("12-34-0").exists(), "only resumable run folders are swept");
        let _ = std::fs::remove_dir_all(&runs);
    }
}
