//! The folder of one training run, removed when the run ends unless its output was moved away
//! (published) or it is kept to be resumed. The tch trainer and the external trainer both run in one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use backend::BackendError;

pub struct RunDir {
    path: PathBuf,
    keep: bool,
}

impl RunDir {
    /// A new folder under `runs`, unique per process, time and call.
    pub fn create(runs: &Path) -> Result<Self, BackendError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        Self::at(runs.join(format!("{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))))
    }

    /// The folder of the run named `key` (what it trains, from what, how): a run killed before it ended
    /// left its checkpoints there, and the next attempt of the same run finds them.
    pub fn resumable(runs: &Path, key: &str) -> Result<Self, BackendError> {
        Self::at(runs.join(format!("resumable-{key}")))
    }

    fn at(dir: PathBuf) -> Result<Self, BackendError> {
        let created = std::fs::create_dir_all(&dir).and_then(|()| std::path::absolute(&dir));
        let path =
            created.map_err(|e| BackendError::Transient(format!("creating the run folder {}: {e}", dir.display())))?;
        Ok(RunDir { path, keep: false })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the folder in place when dropped (a failed attempt that the next one resumes).
    pub fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
