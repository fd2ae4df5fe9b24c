//! Content-addressed artifact store: images, checkpoints, pair sets, keyed by the sha256 of their bytes.
//!
//! One interface ([`ArtifactStore`]) over [`object_store`]: a local directory by default, an S3-compatible
//! bucket by configuration ([`StoreConfig`], `kind = "local" | "s3"`). Messages and rows carry a
//! [`Digest`], never the bytes (DESIGN invariant 5).
//!
//! Keys: `[prefix/]<kind>/<first two hex digits>/<64 hex digits>`, kinds being `images`, `checkpoints`
//! (a [`Manifest`] of `blobs`), `pairsets` and `blobs`.
//!
//! Contracts:
//! - **Content addressing.** An artifact's key is the sha256 of its content. Puts compute it; gets verify
//!   it ([`ArtifactStore::get`] and [`ArtifactStore::download`] return [`ArtifactError::Corrupt`] on a
//!   mismatch; [`ArtifactStore::get_stream`] leaves checking to the caller).
//! - **Atomic writes.** An object is published whole or not at all: single-request puts and multipart
//!   uploads are atomic on S3, and the local backend writes a staging file and renames it (and fsyncs it
//!   first unless `fsync = false`). A file is hashed, then uploaded while hashed again, and published only
//!   if both agree.
//! - **Deduplication.** A put whose content is already stored writes nothing ([`Stored::newly_stored`] is
//!   false), unless the stored copy is older than `dedup_refresh_secs`, in which case it is rewritten to
//!   renew its age for garbage collection. Concurrent writers of the same content write the same bytes
//!   to the same key; readers see one whole copy or the other.
//! - **Garbage collection** ([`ArtifactStore::gc`]) deletes exactly the artifacts outside the keep set
//!   that are older than the grace period; see its documentation for what the caller must guarantee.
//! - Objects under a kind's prefix whose names are not artifact keys are never listed nor deleted.
//!
//! Feature `testing`: the module `testing` starts a moto S3 server for tests (needs `CRITICLOOP_PYTHON`).

mod config;
mod digest;
mod error;
mod gc;
mod kind;
mod manifest;
mod store;
mod upload;

#[cfg(feature = "testing")]
pub mod testing;

pub use config::{StoreConfig, StoreKind};
pub use digest::{Digest, DigestHasher, DigestParseError};
pub use error::ArtifactError;
pub use gc::GcReport;
pub use kind::Kind;
pub use manifest::{Manifest, ManifestEntry};
pub use store::{ArtifactMeta, ArtifactStore, Stored};
