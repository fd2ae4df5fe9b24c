//! `StoreConfig`: which backend holds the artifacts, as read from configuration files and environment.

use crate::ArtifactError;
use config::Secret;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Where artifacts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// A directory on a local (or shared) file system: `root`.
    #[default]
    Local,
    /// An S3-compatible bucket: `bucket`, `endpoint`, `region`, credentials.
    S3,
}

/// The artifact store section of the configuration (`[artifacts]`, `CRITICLOOP_ARTIFACTS__KIND=s3`, ...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    #[serde(default)]
    pub kind: StoreKind,
    /// The directory of a local store. Created if missing.
    #[serde(default = "default_root")]
    pub root: PathBuf,
    /// The bucket of an S3 store.
    pub bucket: Option<String>,
    /// A key prefix inside the bucket (or root), so that several deployments can share one bucket.
    pub prefix: Option<String>,
    /// The endpoint of an S3-compatible service (MinIO, moto, Ceph); AWS when absent.
    pub endpoint: Option<String>,
    pub region: Option<String>,
    /// Credentials; when absent the AWS environment/instance credentials are used.
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    /// Allow `http://` endpoints (local S3 emulators).
    #[serde(default)]
    pub allow_http: bool,
    /// A put that finds its content already stored rewrites it when the stored copy is older than this, so
    /// that a garbage collection with a longer grace period cannot remove it before the caller references it.
    #[serde(default = "default_refresh_secs")]
    pub dedup_refresh_secs: u64,
    /// Local store: flush each artifact (and its directory) to disk before a put returns, so that an
    /// artifact a database row refers to survives a crash of the machine.
    #[serde(default = "default_fsync")]
    pub fsync: bool,
}

fn default_root() -> PathBuf {
    PathBuf::from(".criticloop/artifacts")
}

fn default_refresh_secs() -> u64 {
    3600
}

fn default_fsync() -> bool {
    true
}

impl StoreConfig {
    /// A local store rooted at `root`, with default settings.
    pub fn local(root: impl Into<PathBuf>) -> Self {
        Self {
            kind: StoreKind::Local,
            root: root.into(),
            bucket: None,
            prefix: None,
            endpoint: None,
            region: None,
            access_key_id: None,
            secret_access_key: None,
            allow_http: false,
            dedup_refresh_secs: default_refresh_secs(),
            fsync: default_fsync(),
        }
    }

    pub fn dedup_refresh(&self) -> Duration {
        Duration::from_secs(self.dedup_refresh_secs)
    }

    pub(crate) fn build_backend(&self) -> Result<Arc<dyn ObjectStore>, ArtifactError> {
        match self.kind {
            StoreKind::Local => {
                std::fs::create_dir_all(&self.root)
                    .map_err(|source| ArtifactError::io("creating the store directory", &self.root, source))?;
                let store = LocalFileSystem::new_with_prefix(&self.root)
                    .map_err(|e| ArtifactError::Config(format!("local root {}: {e}", self.root.display())))?
                    .with_fsync(self.fsync);
                Ok(Arc::new(store))
            }
            StoreKind::S3 => {
                let bucket =
                    self.bucket.as_deref().ok_or_else(|| ArtifactError::Config("kind = s3 needs a bucket".into()))?;
                let mut builder = AmazonS3Builder::new().with_bucket_name(bucket).with_allow_http(self.allow_http);
                if let Some(endpoint) = &self.endpoint {
                    if endpoint.starts_with("http://") && !self.allow_http {
                        return Err(ArtifactError::Config(format!(
                            "endpoint {endpoint} is plain http; set allow_http = true to use it"
                        )));
                    }
                    builder = builder.with_endpoint(endpoint);
                }
                builder = builder.with_region(self.region.as_deref().unwrap_or("us-east-1"));
                match (&self.access_key_id, &self.secret_access_key) {
                    (Some(id), Some(secret)) => {
                        builder = builder.with_access_key_id(id.expose()).with_secret_access_key(secret.expose());
                    }
                    (None, None) => {}
                    _ => {
                        return Err(ArtifactError::Config(
                            "access_key_id and secret_access_key must be given together".into(),
                        ));
                    }
                }
                let store = builder.build().map_err(|e| ArtifactError::Config(format!("s3 bucket {bucket}: {e}")))?;
                Ok(Arc::new(store))
            }
        }
    }
}
