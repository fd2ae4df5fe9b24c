//! `ArtifactError`: what went wrong, named by artifact or file, and whether retrying can help.

use crate::{Digest, Kind};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The store configuration cannot work; fix the configuration.
    #[error("artifact store configuration: {0}")]
    Config(String),
    /// The artifact does not exist (never stored, or collected).
    #[error("artifact {kind}/{digest} not found")]
    NotFound { kind: Kind, digest: Digest },
    /// The stored bytes do not hash to their key: the object was damaged outside this crate.
    #[error("artifact {kind}/{digest} is corrupt: its content hashes to {actual}")]
    Corrupt { kind: Kind, digest: Digest, actual: Digest },
    /// A local file could not be read or written.
    #[error("{action} {path}: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// A file changed between hashing and upload; nothing was published.
    #[error("{path} changed while it was stored (hashed {expected}, then uploaded {actual}); nothing was published")]
    ChangedWhileStoring { path: PathBuf, expected: Digest, actual: Digest },
    /// A checkpoint manifest is not valid.
    #[error("manifest {digest}: {reason}")]
    Manifest { digest: Digest, reason: String },
    /// The backend failed (network, permissions, ...). See [`ArtifactError::is_retryable`].
    #[error("object store {operation} {location}: {source}")]
    Backend { operation: &'static str, location: String, source: object_store::Error },
}

impl ArtifactError {
    /// Whether the same call may succeed later (a backend or I/O failure), as opposed to a permanent one.
    pub fn is_retryable(&self) -> bool {
        match self {
            ArtifactError::Backend { source, .. } => !matches!(
                source,
                object_store::Error::NotFound { .. }
                    | object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::PermissionDenied { .. }
                    | object_store::Error::Unauthenticated { .. }
                    | object_store::Error::UnknownConfigurationKey { .. }
            ),
            ArtifactError::Io { .. } => true,
            _ => false,
        }
    }

    pub(crate) fn backend(
        operation: &'static str,
        location: &object_store::path::Path,
        source: object_store::Error,
    ) -> Self {
        ArtifactError::Backend { operation, location: location.to_string(), source }
    }

    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArtifactError::Io { action, path: path.into(), source }
    }
}
