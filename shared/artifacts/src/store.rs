//! `ArtifactStore`: put, get, list and delete content-addressed artifacts on any `object_store` backend.

use crate::{ArtifactError, Digest, Kind, StoreConfig};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// The result of a put: which artifact now holds the content, and whether this call wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub kind: Kind,
    pub digest: Digest,
    pub size: u64,
    /// `false` when the content was already stored (deduplicated) and nothing was written.
    pub newly_stored: bool,
}

/// A stored artifact as a listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactMeta {
    pub kind: Kind,
    pub digest: Digest,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// A content-addressed store of artifacts. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct ArtifactStore {
    pub(crate) backend: Arc<dyn ObjectStore>,
    prefix: Option<String>,
    pub(crate) dedup_refresh: Duration,
    description: String,
}

impl fmt::Debug for ArtifactStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ArtifactStore").field("backend", &self.description).finish()
    }
}

/// Objects up to this size are uploaded with one request; larger ones in parts of this size.
pub(crate) const PART_SIZE: usize = 8 * 1024 * 1024;

impl ArtifactStore {
    /// Opens the store a configuration describes (creating a local root directory if needed).
    pub fn open(config: &StoreConfig) -> Result<Self, ArtifactError> {
        let backend = config.build_backend()?;
        let description = match config.kind {
            crate::StoreKind::Local => format!("local:{}", config.root.display()),
            crate::StoreKind::S3 => format!("s3://{}", config.bucket.as_deref().unwrap_or_default()),
        };
        Ok(Self::from_backend(backend, config.prefix.as_deref(), description)
            .with_dedup_refresh(config.dedup_refresh()))
    }

    /// A store over any `object_store` backend (for example `InMemory` in tests).
    pub fn from_backend(backend: Arc<dyn ObjectStore>, prefix: Option<&str>, description: impl Into<String>) -> Self {
        let prefix = prefix.map(|p| p.trim_matches('/').to_owned()).filter(|p| !p.is_empty());
        Self { backend, prefix, dedup_refresh: Duration::from_secs(3600), description: description.into() }
    }

    /// See [`StoreConfig::dedup_refresh_secs`].
    pub fn with_dedup_refresh(mut self, refresh: Duration) -> Self {
        self.dedup_refresh = refresh;
        self
    }

    /// See [`StoreConfig::dedup_refresh_secs`]: a garbage collection's grace period must be at least this.
    pub fn dedup_refresh(&self) -> Duration {
        self.dedup_refresh
    }

    /// The underlying backend, for tools and tests that must see raw objects.
    pub fn backend(&self) -> &Arc<dyn ObjectStore> {
        &self.backend
    }

    /// `local:/path` or `s3://bucket`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The object key of an artifact: `[prefix/]images/ab/abcdef...`.
    pub fn key(&self, kind: Kind, digest: &Digest) -> ObjectPath {
        let hex = digest.to_hex();
        let relative = format!("{}/{}/{}", kind.prefix(), &hex[..2], hex);
        match &self.prefix {
            Some(prefix) => ObjectPath::from(format!("{prefix}/{relative}")),
            None => ObjectPath::from(relative),
        }
    }

    fn kind_prefix(&self, kind: Kind) -> ObjectPath {
        match &self.prefix {
            Some(prefix) => ObjectPath::from(format!("{prefix}/{}", kind.prefix())),
            None => ObjectPath::from(kind.prefix()),
        }
    }

    /// The digest a key of `kind` names, or `None` for a foreign object.
    fn parse_key(&self, kind: Kind, key: &ObjectPath) -> Option<Digest> {
        let parts: Vec<_> = key.parts().collect();
        let mut parts: Vec<&str> = parts.iter().map(|p| p.as_ref()).collect();
        let name = parts.pop()?;
        let shard = parts.pop()?;
        let kind_part = parts.pop()?;
        let digest = Digest::parse(name).ok()?;
        (kind_part == kind.prefix() && shard == &name[..2]).then_some(digest)
    }

    /// Stores `bytes` under their sha256. Atomic: readers see the whole object or none.
    pub async fn put_bytes(&self, kind: Kind, bytes: impl Into<Bytes>) -> Result<Stored, ArtifactError> {
        let bytes: Bytes = bytes.into();
        let digest = Digest::of(&bytes);
        let size = bytes.len() as u64;
        if !self.needs_write(kind, &digest).await? {
            return Ok(Stored { kind, digest, size, newly_stored: false });
        }
        let key = self.key(kind, &digest);
        self.backend.put(&key, PutPayload::from(bytes)).await.map_err(|e| ArtifactError::backend("put", &key, e))?;
        tracing::debug!(%kind, %digest, size, "artifact stored");
        Ok(Stored { kind, digest, size, newly_stored: true })
    }

    /// Whether a put of this content must write: it is absent, or present but older than the refresh window
    /// (rewriting it renews its age, so a garbage collection cannot take it before the caller references it).
    pub(crate) async fn needs_write(&self, kind: Kind, digest: &Digest) -> Result<bool, ArtifactError> {
        match self.head(kind, digest).await? {
            None => Ok(true),
            Some(meta) => {
                let age = Utc::now().signed_duration_since(meta.last_modified);
                Ok(age.to_std().is_ok_and(|age| age >= self.dedup_refresh))
            }
        }
    }

    /// Checks that the backend answers (the bucket exists, the credentials work): one listing request.
    /// For readiness probes and start-up checks.
    pub async fn ping(&self) -> Result<(), ArtifactError> {
        let prefix = self.kind_prefix(Kind::Image);
        self.backend
            .list_with_delimiter(Some(&prefix))
            .await
            .map(|_| ())
            .map_err(|e| ArtifactError::backend("list", &prefix, e))
    }

    /// The metadata of an artifact, or `None` if it is not stored.
    pub async fn head(&self, kind: Kind, digest: &Digest) -> Result<Option<ArtifactMeta>, ArtifactError> {
        let key = self.key(kind, digest);
        match self.backend.head(&key).await {
            Ok(meta) => {
                Ok(Some(ArtifactMeta { kind, digest: *digest, size: meta.size, last_modified: meta.last_modified }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(ArtifactError::backend("head", &key, e)),
        }
    }

    pub async fn exists(&self, kind: Kind, digest: &Digest) -> Result<bool, ArtifactError> {
        Ok(self.head(kind, digest).await?.is_some())
    }

    /// The whole content, verified against its digest.
    pub async fn get(&self, kind: Kind, digest: &Digest) -> Result<Bytes, ArtifactError> {
        let key = self.key(kind, digest);
        let result = self.backend.get(&key).await.map_err(|e| self.read_error(kind, digest, &key, e))?;
        let bytes = result.bytes().await.map_err(|e| self.read_error(kind, digest, &key, e))?;
        let actual = Digest::of(&bytes);
        if actual != *digest {
            return Err(ArtifactError::Corrupt { kind, digest: *digest, actual });
        }
        Ok(bytes)
    }

    /// The content as a stream of chunks, for large artifacts. Not verified: use [`ArtifactStore::download`]
    /// or hash the chunks to check it.
    pub async fn get_stream(
        &self,
        kind: Kind,
        digest: &Digest,
    ) -> Result<BoxStream<'static, Result<Bytes, ArtifactError>>, ArtifactError> {
        let key = self.key(kind, digest);
        let result = self.backend.get(&key).await.map_err(|e| self.read_error(kind, digest, &key, e))?;
        let location = key.to_string();
        Ok(result
            .into_stream()
            .map_err(move |source| ArtifactError::Backend { operation: "get", location: location.clone(), source })
            .boxed())
    }

    pub(crate) fn read_error(
        &self,
        kind: Kind,
        digest: &Digest,
        key: &ObjectPath,
        error: object_store::Error,
    ) -> ArtifactError {
        match error {
            object_store::Error::NotFound { .. } => ArtifactError::NotFound { kind, digest: *digest },
            other => ArtifactError::backend("get", key, other),
        }
    }

    /// Every artifact of `kind`. Objects under the kind's prefix whose keys are not artifact keys are skipped.
    pub fn list(&self, kind: Kind) -> BoxStream<'static, Result<ArtifactMeta, ArtifactError>> {
        let prefix = self.kind_prefix(kind);
        let this = self.clone();
        let location = prefix.to_string();
        self.backend
            .list(Some(&prefix))
            .map_err(move |source| ArtifactError::Backend { operation: "list", location: location.clone(), source })
            .try_filter_map(move |meta| {
                let found = this.parse_key(kind, &meta.location).map(|digest| ArtifactMeta {
                    kind,
                    digest,
                    size: meta.size,
                    last_modified: meta.last_modified,
                });
                futures::future::ready(Ok(found))
            })
            .boxed()
    }

    /// Deletes an artifact; deleting one that is absent is not an error.
    pub async fn delete(&self, kind: Kind, digest: &Digest) -> Result<(), ArtifactError> {
        let key = self.key(kind, digest);
        match self.backend.delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(ArtifactError::backend("delete", &key, e)),
        }
    }
}
