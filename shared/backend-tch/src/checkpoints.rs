//! Checkpoints by URI. `sha256:<hex>` names a directory artifact (a checkpoint manifest) in the artifact
//! store: it is downloaded once into `work_dir/checkpoints/<hex>` and reused from there. Any other URI is a
//! local folder (`file://` optional). A trained checkpoint is published back as a directory artifact and
//! kept as the cached copy of its digest, so the next round starts without a download.

use std::path::{Path, PathBuf};

use artifacts::{ArtifactError, ArtifactStore, Digest, Kind};
use backend::BackendError;

use crate::io::Io;

pub struct Checkpoints {
    store: ArtifactStore,
    io: Io,
    root: PathBuf,
}

impl Checkpoints {
    pub fn new(store: ArtifactStore, io: Io, work_dir: &Path) -> Self {
        Self { store, io, root: work_dir.join("checkpoints") }
    }

    /// The local folder holding the checkpoint `uri`, fetching it from the artifact store if needed.
    pub fn resolve(&self, uri: &str) -> Result<PathBuf, BackendError> {
        if uri.starts_with("sha256:") {
            let digest = Digest::parse(uri).map_err(|e| BackendError::Permanent(format!("checkpoint: {e}")))?;
            return self.fetch(&digest);
        }
        let path = Path::new(uri.strip_prefix("file://").unwrap_or(uri));
        if uri.contains("://") && !uri.starts_with("file://") {
            return Err(BackendError::Permanent(format!(
                "checkpoint `{uri}`: the tch backend reads `sha256:` artifacts and local folders, not this scheme"
            )));
        }
        if !path.join("config.json").is_file() {
            return Err(BackendError::Permanent(format!(
                "checkpoint `{uri}`: not a `sha256:` artifact, and not a folder with a config.json"
            )));
        }
        Ok(path.to_path_buf())
    }

    fn fetch(&self, digest: &Digest) -> Result<PathBuf, BackendError> {
        let dir = self.root.join(digest.to_hex());
        if dir.is_dir() {
            tracing::debug!(%digest, dir = %dir.display(), "checkpoint cached");
            return Ok(dir);
        }
        let span = tracing::info_span!("checkpoint.download", %digest, store = self.store.description());
        let _entered = span.enter();
        let started = std::time::Instant::now();
        match self.io.block_on(self.store.download_dir(Kind::Checkpoint, digest, &dir)) {
            Ok(manifest) => {
                let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
                tracing::info!(
                    files = manifest.files.len(),
                    bytes,
                    seconds = started.elapsed().as_secs_f64(),
                    "checkpoint downloaded"
                );
                Ok(dir)
            }
            // Another training on this host downloaded it first (downloads appear whole, by rename).
            Err(_) if dir.is_dir() => Ok(dir),
            Err(e) => Err(artifact_error(&format!("checkpoint sha256:{digest}"), e)),
        }
    }

    /// Stores the checkpoint folder `dir` as a directory artifact and returns its `sha256:` URI. The
    /// folder then becomes the cached copy of that digest (or is removed if one exists already).
    pub fn publish(&self, dir: &Path) -> Result<String, BackendError> {
        let span = tracing::info_span!("checkpoint.upload", dir = %dir.display(), store = self.store.description());
        let _entered = span.enter();
        let (stored, manifest) = self
            .io
            .block_on(self.store.put_dir(Kind::Checkpoint, dir))
            .map_err(|e| artifact_error("storing the trained checkpoint", e))?;
        let cached = self.root.join(stored.digest.to_hex());
        if cached.is_dir() || std::fs::rename(dir, &cached).is_err() {
            let _ = std::fs::remove_dir_all(dir);
        }
        tracing::info!(digest = %stored.digest, files = manifest.files.len(), "checkpoint stored");
        Ok(format!("sha256:{}", stored.digest))
    }
}

/// A missing or malformed artifact cannot be fixed by retrying; a backend or disk failure may be.
fn artifact_error(what: &str, e: ArtifactError) -> BackendError {
    match e {
        ArtifactError::NotFound { .. } | ArtifactError::Corrupt { .. } | ArtifactError::Manifest { .. } => {
            BackendError::Permanent(format!("{what}: {e}"))
        }
        other => BackendError::Transient(format!("{what}: {other}")),
    }
}
