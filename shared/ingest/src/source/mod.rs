//! Readers of the three formats. Each runs on a blocking thread and pushes records one at a time to a
//! callback, so no file is ever held in memory whole. Each also has a validation pass that checks the
//! file's structure without producing records (run before anything is stored).

mod json_record;
mod jsonl;
mod llava_json;
mod parquet;
mod parquet_columns;

use crate::row::{RejectReason, Rejected, Turn};
use crate::{Format, ImportError};
use std::path::{Path, PathBuf};

/// An image as a record names it, before it is checked.
#[derive(Debug)]
pub(crate) enum RawImage {
    Bytes(Vec<u8>),
    /// Resolved against the image folder already.
    File(PathBuf),
    /// `sha256:<hex>`: an image already in the artifact store.
    Stored(artifacts::Digest),
}

/// A record with the fields every format shares.
#[derive(Debug)]
pub(crate) struct RawRecord {
    pub row_number: u64,
    pub id: String,
    pub source: Option<String>,
    pub conversations: Vec<Turn>,
    pub image: Option<RawImage>,
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug)]
pub(crate) enum SourceItem {
    Record(RawRecord),
    Rejected(Rejected),
}

/// The consumer has gone (the import failed or was dropped): stop reading.
#[derive(Debug)]
pub(crate) struct Stopped;

pub(crate) type Emit<'a> = dyn FnMut(SourceItem) -> Result<(), Stopped> + 'a;

/// What the reader needs besides the file.
#[derive(Debug, Clone)]
pub(crate) struct ReadSettings {
    pub image_root: PathBuf,
    pub parquet_batch_rows: usize,
    /// Whether image paths may be read at all (see `ImportOptions::image_files`).
    pub image_files: bool,
}

/// Checks the file's structure (syntax, schema, truncation) without producing records.
pub(crate) fn validate(format: Format, path: &Path) -> Result<(), ImportError> {
    match format {
        Format::LlavaJson => llava_json::validate(path),
        Format::Jsonl => jsonl::validate(path),
        Format::Parquet => parquet::validate(path),
    }
}

/// Reads every record. A per-row problem is emitted as `Rejected`; a file-level one ends the read with an
/// error. Returns `Ok` early if `emit` reports that the consumer stopped.
pub(crate) fn read(
    format: Format,
    path: &Path,
    settings: &ReadSettings,
    emit: &mut Emit<'_>,
) -> Result<(), ImportError> {
    let outcome = match format {
        Format::LlavaJson => llava_json::read(path, settings, emit),
        Format::Jsonl => jsonl::read(path, settings, emit),
        Format::Parquet => parquet::read(path, settings, emit),
    };
    match outcome {
        Ok(()) | Err(ReadError::Stopped) => Ok(()),
        Err(ReadError::File(error)) => Err(error),
    }
}

pub(crate) enum ReadError {
    Stopped,
    File(ImportError),
}

impl From<Stopped> for ReadError {
    fn from(_: Stopped) -> Self {
        ReadError::Stopped
    }
}

impl From<ImportError> for ReadError {
    fn from(error: ImportError) -> Self {
        ReadError::File(error)
    }
}

/// Resolves an image path from a record against the image folder; absolute paths and `..` are refused, and
/// every path when the import reads no image files.
pub(crate) fn resolve_image_path(settings: &ReadSettings, path: &str) -> Result<PathBuf, RejectReason> {
    if !settings.image_files {
        return Err(RejectReason::ImagePathNotAllowed { path: path.to_owned() });
    }
    let root = &settings.image_root;
    let relative = Path::new(path);
    let safe = !path.is_empty()
        && relative.components().all(|c| matches!(c, std::path::Component::Normal(_) | std::path::Component::CurDir));
    if !safe {
        return Err(RejectReason::ImagePathNotRelative { path: path.to_owned() });
    }
    Ok(root.join(relative))
}

pub(crate) fn rejected(row_number: u64, id: Option<String>, reason: RejectReason) -> SourceItem {
    SourceItem::Rejected(Rejected { row_number, id, reason })
}
