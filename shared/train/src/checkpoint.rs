//! Resumable checkpoints: `checkpoint-STEP/` holds the policy in the Hugging Face layout (loadable by
//! transformers), `optimizer.safetensors` (AdamW moments) and `trainer_state.json` (step, options, the
//! starting checkpoint, the ids of the pairs and, when precomputed, the reference log-probs). The data order
//! is a function of `(seed, epoch)` and the step, so it needs no more state. A checkpoint is written under a
//! temporary name and renamed when complete: a run killed while saving leaves the previous one intact.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::DpoConfig;
use crate::error::{Result, TrainError, io_err};
use crate::optim::AdamW;
use crate::pairs::TokenizedPair;
use crate::policy::PolicyModel;

pub const STATE_FILE: &str = "trainer_state.json";
pub const OPTIMIZER_FILE: &str = "optimizer.safetensors";
const PREFIX: &str = "checkpoint-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainerState {
    pub step: u64,
    pub base: PathBuf,
    pub config: DpoConfig,
    pub pair_ids: Vec<String>,
    pub ref_logps: Option<Vec<(f32, f32)>>,
}

impl TrainerState {
    pub fn new(
        step: u64,
        base: &Path,
        config: &DpoConfig,
        pairs: &[TokenizedPair],
        ref_logps: Option<Vec<(f32, f32)>>,
    ) -> Self {
        TrainerState {
            step,
            base: base.to_path_buf(),
            config: config.clone(),
            pair_ids: pairs.iter().map(|p| p.id.clone()).collect(),
            ref_logps,
        }
    }

    /// A resume must see the same options (except how often it saves) and the same pairs in the same order.
    pub fn check_matches(&self, dir: &Path, config: &DpoConfig, pairs: &[TokenizedPair]) -> Result<()> {
        let bad = |message: String| TrainError::Checkpoint { path: dir.to_path_buf(), message };
        let mut saved = self.config.clone();
        saved.save_steps = config.save_steps;
        if &saved != config {
            return Err(bad(format!("was written with other options: {:?}", self.config)));
        }
        let ids: Vec<&str> = pairs.iter().map(|p| p.id.as_str()).collect();
        if ids != self.pair_ids.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err(bad(format!("was written for {} other pairs", self.pair_ids.len())));
        }
        if let Some(r) = &self.ref_logps
            && r.len() != pairs.len()
        {
            return Err(bad(format!("holds {} reference log-probs for {} pairs", r.len(), pairs.len())));
        }
        Ok(())
    }
}

pub fn read_state(dir: &Path) -> Result<TrainerState> {
    let path = dir.join(STATE_FILE);
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    serde_json::from_str(&text).map_err(|source| TrainError::Json { path, source })
}

/// Writes `out/checkpoint-STEP` and returns its path.
pub fn write(out: &Path, policy: &PolicyModel, optimizer: &AdamW, state: &TrainerState) -> Result<PathBuf> {
    let dir = out.join(format!("{PREFIX}{}", state.step));
    let tmp = out.join(format!(".{PREFIX}{}.tmp", state.step));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    policy.save(&tmp)?;
    optimizer.save(&tmp.join(OPTIMIZER_FILE))?;
    let state_path = tmp.join(STATE_FILE);
    let text =
        serde_json::to_string_pretty(state).map_err(|source| TrainError::Json { path: state_path.clone(), source })?;
    std::fs::write(&state_path, text).map_err(io_err(&state_path))?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io_err(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io_err(&dir))?;
    Ok(dir)
}

/// The complete checkpoint with the highest step under `out`, if any.
pub fn latest(out: &Path) -> Result<Option<PathBuf>> {
    if !out.is_dir() {
        return Ok(None);
    }
    let mut best: Option<(u64, PathBuf)> = None;
    for entry in std::fs::read_dir(out).map_err(io_err(out))? {
        let entry = entry.map_err(io_err(out))?;
        let name = entry.file_name();
        let Some(step) = name.to_str().and_then(|n| n.strip_prefix(PREFIX)).and_then(|s| s.parse::<u64>().ok()) else {
            continue;
        };
        let path = entry.path();
        if path.join(STATE_FILE).is_file() && best.as_ref().is_none_or(|(s, _)| step > *s) {
            best = Some((step, path));
        }
    }
    Ok(best.map(|(_, p)| p))
}
