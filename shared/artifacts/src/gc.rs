//! Garbage collection: delete exactly the artifacts nothing references any more.

use crate::{ArtifactError, ArtifactMeta, ArtifactStore, Digest, Kind};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use std::collections::HashSet;
use std::time::Duration;

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Artifacts looked at.
    pub scanned: u64,
    /// Referenced (directly, or as a file of a referenced manifest): kept.
    pub kept: u64,
    /// Unreferenced but younger than the grace period: kept, and collected by a later run.
    pub spared_young: u64,
    /// Deleted, with their sizes.
    pub deleted: Vec<(Kind, Digest, u64)>,
}

impl GcReport {
    pub fn bytes_freed(&self) -> u64 {
        self.deleted.iter().map(|(_, _, size)| size).sum()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collect {
    Delete,
    DryRun,
}

impl ArtifactStore {
    /// Deletes every artifact whose digest is not in `keep` and that is older than `older_than`.
    ///
    /// Contract:
    /// - `keep` is every digest that a campaign, job or dataset references. Files listed by a kept
    ///   [`Kind::Checkpoint`] manifest are kept too; so are the files of manifests younger than the grace
    ///   period (a checkpoint being written, not yet referenced).
    /// - The grace period protects artifacts that were just written and are not referenced yet. A caller
    ///   must commit its reference within `older_than` of the put returning; puts that deduplicate renew an
    ///   artifact older than the store's `dedup_refresh`, so `older_than` must exceed that window.
    /// - A kept manifest that cannot be read stops the collection before anything is deleted.
    pub async fn gc(&self, keep: &HashSet<Digest>, older_than: Duration) -> Result<GcReport, ArtifactError> {
        self.collect(keep, older_than, Collect::Delete).await
    }

    /// What [`ArtifactStore::gc`] would delete now, deleting nothing: the report's `deleted` lists the
    /// artifacts a collection with the same arguments would take.
    pub async fn gc_dry_run(&self, keep: &HashSet<Digest>, older_than: Duration) -> Result<GcReport, ArtifactError> {
        self.collect(keep, older_than, Collect::DryRun).await
    }

    async fn collect(
        &self,
        keep: &HashSet<Digest>,
        older_than: Duration,
        mode: Collect,
    ) -> Result<GcReport, ArtifactError> {
        let cutoff = chrono::Duration::from_std(older_than)
            .ok()
            .and_then(|grace| Utc::now().checked_sub_signed(grace))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let mut reachable = keep.clone();
        let manifests: Vec<ArtifactMeta> = self.list(Kind::Checkpoint).try_collect().await?;
        for meta in &manifests {
            if keep.contains(&meta.digest) || meta.last_modified > cutoff {
                let manifest = self.get_manifest(Kind::Checkpoint, &meta.digest).await?;
                reachable.extend(manifest.files.iter().map(|f| f.digest));
            }
        }
        let mut report = GcReport::default();
        for kind in Kind::ALL {
            let metas: Vec<ArtifactMeta> = self.list(kind).try_collect().await?;
            for meta in metas {
                report.scanned += 1;
                if reachable.contains(&meta.digest) {
                    report.kept += 1;
                } else if meta.last_modified > cutoff {
                    report.spared_young += 1;
                } else {
                    if mode == Collect::Delete {
                        self.delete(kind, &meta.digest).await?;
                        tracing::info!(%kind, digest = %meta.digest, size = meta.size, "artifact collected");
                    }
                    report.deleted.push((kind, meta.digest, meta.size));
                }
            }
        }
        Ok(report)
    }
}
