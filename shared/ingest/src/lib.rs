//! Dataset import: LLaVA JSON (+ image folder), JSONL and parquet (the LLaVA-Critic-113k layout) into
//! prompt and critic-training rows, with images checked once and stored by sha256.
//!
//! [`Importer::import`] runs in three steps:
//! 1. **Validate** the file's structure without storing anything: JSON syntax from start to end, every
//!    JSONL line, a parquet footer, schema (required columns and types) and column chunk extents; and
//!    compute the file's sha256 ([`SourceFile::digest`]).
//! 2. **Read** it streaming on a blocking thread (one JSON element, one line or one parquet record batch
//!    at a time; batches travel over a bounded channel, so memory stays bounded whatever the file size).
//!    The images of a batch are read, sniffed, checked against [`ImageLimits`] (bytes, width, height,
//!    pixels, decoder allocation: decompression bombs are refused from the header) and fully decoded
//!    (corrupt or truncated images are refused) on `decode_threads` blocking threads while the previous
//!    batch is stored; each image is stored unchanged in the artifact store under `images/` by its sha256.
//! 3. **Hand rows to a [`RowSink`]** in batches between `begin` and `commit`.
//!
//! Contract: errors of a row and errors of a file.
//! - A **per-row problem** (a missing or mistyped field, a missing, corrupt, oversized or unsupported
//!   image, an unsafe image path) rejects that row only: it appears in [`ImportReport::rejected`] with its
//!   row number, id and [`RejectReason`], and the rest of the file is imported.
//! - A **file-level problem** (unreadable or truncated file, JSON syntax error anywhere, not an array,
//!   a missing or mistyped column, a corrupt parquet page, the file modified during the import) fails the
//!   import with an [`ImportError`] that
//!   names the file and the position or column. Structural problems are found by step 1, before anything
//!   is stored; a problem found while reading (a corrupt parquet page, the file changed) calls
//!   [`RowSink::rollback`] and never `commit`, so the sink keeps no row of the file. Images stored before
//!   such a failure are unreferenced and collected by the artifact store's garbage collection.
//! - **Idempotence**: the same file yields the same rows (same ids, row numbers, texts and image digests)
//!   and stores no new image the second time ([`ImportReport::images_stored`] is 0); the sink recognizes a
//!   re-import by [`SourceFile::digest`] or by row ids, and upserts.
//!
//! Ids are passed through as the file has them; their uniqueness is the sink's concern.

mod error;
mod format;
mod image_check;
mod importer;
mod row;
mod sink;
mod source;

pub use error::{ImportError, SinkError};
pub use format::{Format, RowKind, UnknownFormat};
pub use image_check::{CheckedImage, ImageLimits, ImageProblem, check_image};
pub use importer::{ImportOptions, ImportReport, Importer, SourceFile};
pub use row::{ImageRef, RejectReason, Rejected, Row, Turn};
pub use sink::{MemorySink, RowSink};
