//! A fresh, absolute folder for one training run, removed when the run ends unless its output was moved
//! away (published). The tch trainer and the external trainer both run in one.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use backend::BackendError;

pub struct RunDir(PathBuf);

impl RunDir {
    /// A new folder under `runs`, unique per process, time and call.
    pub fn create(runs: &Path) -> Result<Self, BackendError> {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = runs.join(format!("{}-{nanos}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed)));
        let created = std::fs::create_dir_all(&dir).and_then(|()| std::path::absolute(&dir));
        let dir =
            created.map_err(|e| BackendError::Transient(format!("creating the run folder {}: {e}", dir.display())))?;
        Ok(RunDir(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
