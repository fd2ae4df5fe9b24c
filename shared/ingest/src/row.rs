//! What an import yields: accepted `Row`s and `Rejected` rows with their reasons.

use crate::RowKind;
use crate::image_check::ImageProblem;
use artifacts::Digest;
use serde::Serialize;

/// One turn of a conversation, LLaVA style (`from` is `human` or `gpt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Turn {
    pub from: String,
    pub value: String,
}

/// A checked image, stored in the artifact store under `images/` by `digest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    pub digest: Digest,
    pub width: u32,
    pub height: u32,
    /// `png`, `jpeg`, `webp`, `gif` or `bmp`.
    pub format: String,
    /// Encoded size in bytes.
    pub size: u64,
}

/// An accepted row. `id` is the dataset's own id, unique within the file (later rows with the same id are
/// rejected as [`RejectReason::DuplicateId`]); across files, uniqueness is the sink's concern.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// 1-based: the element of a JSON array, the line of a JSONL file, the row of a parquet file.
    pub row_number: u64,
    pub id: String,
    pub source: Option<String>,
    pub kind: RowKind,
    pub conversations: Vec<Turn>,
    pub image: Option<ImageRef>,
    /// Fields of the record that are not one of the above, as JSON.
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// Numbered as [`Row::row_number`].
    pub row_number: u64,
    pub id: Option<String>,
    pub reason: RejectReason,
}

/// Why a row was rejected. The rest of the file is still imported.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RejectReason {
    #[error("record is not a JSON object")]
    NotAnObject,
    #[error("missing field {field:?}")]
    MissingField { field: String },
    #[error("field {field:?} is not {expected}")]
    WrongType { field: String, expected: String },
    #[error("both \"conversations\" and \"question\" are given")]
    AmbiguousConversation,
    #[error("the conversation has no turns")]
    EmptyConversation,
    #[error("image path {path:?} is not relative to the image folder (absolute or with '..')")]
    ImagePathNotRelative { path: String },
    #[error(
        "image {path:?} is a file path, and this import reads no files: inline the image as a data: URI or \
         reference a stored image as sha256:<hex>"
    )]
    ImagePathNotAllowed { path: String },
    #[error("image reference {reference:?} is not sha256: and 64 lowercase hex digits")]
    BadArtifactRef { reference: String },
    #[error("image sha256:{digest} is not in the artifact store")]
    ImageArtifactMissing { digest: String },
    #[error("image file {path} does not exist")]
    ImageFileMissing { path: String },
    #[error("image file {path} cannot be read: {error}")]
    ImageFileUnreadable { path: String, error: String },
    #[error("image data URI: {reason}")]
    BadDataUri { reason: String },
    #[error("image: {problem}")]
    Image { problem: ImageProblem },
    /// An earlier row of the same file has this id; only the first row with an id is imported.
    #[error("duplicate id `{id}` (first at row {first_row})")]
    DuplicateId { id: String, first_row: u64 },
}
