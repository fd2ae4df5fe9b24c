//! The small world's trained policy and critic (`scripts/world/train_small`), for the `learning_*` tests:
//! trained once with the binaries under test and cached beside the model fixtures, keyed by the content of
//! everything that decides the weights (the scripts, the world, the trainer, the model code, the lock
//! file) and the Python interpreter's path. Any change to those retrains; an interrupted run resumes from
//! the stages it finished, as `train_small` skips a stage whose checkpoint exists.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use anyhow::{Context, bail};
use sha2::{Digest, Sha256};

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Files and folders (relative to the root) whose content decides what `train_small` trains.
const INPUTS: &[&str] = &[
    "scripts/world/train_small",
    "scripts/world/stages.sh",
    "scripts/world/init_llava.py",
    "shared/world/src",
    "shared/train/src",
    "shared/model/src",
    "shared/backend-tch/src",
    "shared/critic/src",
    "cli/src/world.rs",
    "Cargo.lock",
];

/// Every file under `path`, sorted, so the key does not depend on the directory's listing order.
fn files(path: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            files(&entry, out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// The cache key: sha256 over each input file's path (relative to the root) and bytes, and `python`.
fn key(python: &Path) -> anyhow::Result<String> {
    let root = root();
    let mut paths = Vec::new();
    for input in INPUTS {
        files(&root.join(input), &mut paths).with_context(|| format!("reading {input}"))?;
    }
    let mut h = Sha256::new();
    for path in paths {
        h.update(path.strip_prefix(&root).unwrap_or(&path).to_string_lossy().as_bytes());
        h.update(std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?);
    }
    h.update(python.to_string_lossy().as_bytes());
    Ok(h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect())
}

/// The small world's trained checkpoints.
#[derive(Debug, Clone)]
pub struct SmallWorld {
    /// The policy (`train_small`'s `world1`).
    pub policy: PathBuf,
    /// The critic (`train_small`'s last critic stage, `critic4`).
    pub critic: PathBuf,
}

impl SmallWorld {
    fn in_dir(dir: &Path) -> Self {
        SmallWorld { policy: dir.join("world1"), critic: dir.join("critic4") }
    }
}

/// What `train_small OUT 0` trains (`TRAIN_SMALL_SCORE=none`: the tests score it themselves), trained on
/// first use with the binaries under test and then cached.
pub fn trained() -> anyhow::Result<SmallWorld> {
    // the tests of one binary run on threads: one trains, the others wait for its folder
    static TRAINING: Mutex<()> = Mutex::new(());
    let _training = TRAINING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let python = model::fixtures::python().map_err(anyhow::Error::msg)?;
    let dir = model::fixtures::cache_root().join(format!("small-world-{}", key(&python)?));
    if dir.join("done").is_file() {
        return Ok(SmallWorld::in_dir(&dir));
    }
    // One folder that an interrupted run resumes in; renamed when complete.
    let partial = dir.with_extension("partial");
    std::fs::create_dir_all(&partial)?;
    let log = partial.join("train_small.log");
    let status = Command::new(root().join("scripts/world/train_small"))
        .arg(&partial)
        .arg("0")
        .env("CRITICLOOP_BIN_DIR", devcluster::bin_dir())
        .env("CRITICLOOP_PYTHON", &python)
        .env("TRAIN_SMALL_SCORE", "none")
        .stderr(std::fs::File::create(&log)?)
        .status()
        .context("running scripts/world/train_small")?;
    if !status.success() {
        let tail = std::fs::read_to_string(&log).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(20).collect();
        bail!("train_small failed ({status}); the end of {}:\n{}", log.display(), tail.join("\n"));
    }
    // the training rows (and their images) are only needed to resume: drop them from the cache
    std::fs::remove_dir_all(partial.join("data")).context("removing the training rows")?;
    std::fs::write(partial.join("done"), "")?;
    match std::fs::rename(&partial, &dir) {
        Ok(()) => Ok(SmallWorld::in_dir(&dir)),
        Err(_) if dir.join("done").is_file() => Ok(SmallWorld::in_dir(&dir)),
        Err(e) => Err(e).with_context(|| format!("moving {} to {}", partial.display(), dir.display())),
    }
}
