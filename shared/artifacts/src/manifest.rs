//! Directory artifacts (checkpoints): every file is a `Blob`, and a manifest listing them is the artifact.
//!
//! The manifest is canonical JSON (files sorted by path), so the same directory always has the same
//! digest. Garbage collection treats the files of a kept manifest as kept.

use crate::{ArtifactError, ArtifactStore, Digest, Kind, Stored};
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// The files of a directory artifact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub files: Vec<ManifestEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestEntry {
    /// Relative path with `/` separators; never absolute, never `..`.
    pub path: String,
    pub digest: Digest,
    pub size: u64,
}

impl Manifest {
    /// Parses and validates a manifest (relative, unique paths).
    pub fn from_json(digest: &Digest, bytes: &[u8]) -> Result<Self, ArtifactError> {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| ArtifactError::Manifest { digest: *digest, reason: format!("not a manifest: {e}") })?;
        let mut previous: Option<&str> = None;
        for entry in &manifest.files {
            if !is_safe_relative(&entry.path) {
                return Err(ArtifactError::Manifest {
                    digest: *digest,
                    reason: format!("unsafe path {:?}", entry.path),
                });
            }
            if previous.is_some_and(|p| p >= entry.path.as_str()) {
                return Err(ArtifactError::Manifest {
                    digest: *digest,
                    reason: format!("paths not sorted and unique at {:?}", entry.path),
                });
            }
            previous = Some(&entry.path);
        }
        Ok(manifest)
    }

    fn to_json(&self) -> Vec<u8> {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

impl ArtifactStore {
    /// Stores every regular file under `dir` as a `Blob` and a manifest of them as an artifact of `kind`
    /// (usually [`Kind::Checkpoint`]). Returns the manifest's put result.
    pub async fn put_dir(&self, kind: Kind, dir: &Path) -> Result<(Stored, Manifest), ArtifactError> {
        let root = dir.to_path_buf();
        let files = tokio::task::spawn_blocking(move || list_files(&root))
            .await
            .map_err(|e| ArtifactError::io("listing", dir, std::io::Error::other(e)))??;
        let mut entries = Vec::with_capacity(files.len());
        for (relative, absolute) in files {
            let stored = self.put_file(Kind::Blob, &absolute).await?;
            entries.push(ManifestEntry { path: relative, digest: stored.digest, size: stored.size });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest { files: entries };
        let stored = self.put_bytes(kind, manifest.to_json()).await?;
        Ok((stored, manifest))
    }

    /// Reads and validates a manifest.
    pub async fn get_manifest(&self, kind: Kind, digest: &Digest) -> Result<Manifest, ArtifactError> {
        let bytes = self.get(kind, digest).await?;
        Manifest::from_json(digest, &bytes)
    }

    /// Downloads a directory artifact into `dest`, which must not exist; it appears complete or not at all
    /// (files go to a temporary sibling directory that is renamed at the end).
    pub async fn download_dir(&self, kind: Kind, digest: &Digest, dest: &Path) -> Result<Manifest, ArtifactError> {
        let manifest = self.get_manifest(kind, digest).await?;
        if tokio::fs::try_exists(dest).await.unwrap_or(false) {
            return Err(ArtifactError::io(
                "downloading into",
                dest,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "destination exists"),
            ));
        }
        let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(parent).await.map_err(|e| ArtifactError::io("creating", parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".download-dir-")
            .tempdir_in(parent)
            .map_err(|e| ArtifactError::io("creating a temporary directory in", parent, e))?;
        for entry in &manifest.files {
            let target: PathBuf = staging.path().join(entry.path.replace('/', std::path::MAIN_SEPARATOR_STR));
            self.download(Kind::Blob, &entry.digest, &target).await?;
        }
        let staged = staging.keep();
        tokio::fs::rename(&staged, dest).await.map_err(|e| ArtifactError::io("renaming a download to", dest, e))?;
        Ok(manifest)
    }
}

/// `(relative path with '/', absolute path)` of every regular file under `root`, recursively.
fn list_files(root: &Path) -> Result<Vec<(String, PathBuf)>, ArtifactError> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| ArtifactError::io("listing", &dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ArtifactError::io("listing", &dir, e))?;
            let path = entry.path();
            let metadata = std::fs::metadata(&path).map_err(|e| ArtifactError::io("inspecting", &path, e))?;
            if metadata.is_dir() {
                pending.push(path);
            } else if metadata.is_file() {
                let relative = path.strip_prefix(root).unwrap_or(&path);
                let parts: Option<Vec<&str>> = relative
                    .components()
                    .map(|c| match c {
                        Component::Normal(part) => part.to_str(),
                        _ => None,
                    })
                    .collect();
                let Some(parts) = parts else {
                    return Err(ArtifactError::io(
                        "storing",
                        &path,
                        std::io::Error::new(std::io::ErrorKind::InvalidInput, "file name is not UTF-8"),
                    ));
                };
                found.push((parts.join("/"), path));
            }
        }
    }
    Ok(found)
}
