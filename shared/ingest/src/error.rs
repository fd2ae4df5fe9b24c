//! `ImportError`: file-level failures. When one is returned the import stored no rows (the sink was
//! rolled back); images it stored are unreferenced and left to the artifact store's garbage collection.

use crate::Format;
use std::path::PathBuf;

/// An error a [`crate::RowSink`] returns.
pub type SinkError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be opened or read.
    #[error("{path}: {action}: {source}")]
    Io { path: PathBuf, action: &'static str, source: std::io::Error },
    /// Not valid JSON / JSONL (truncated, or corrupt) at this position.
    #[error("{path}: invalid {format} at line {line}, column {column}: {message}")]
    Syntax { path: PathBuf, format: Format, line: u64, column: u64, message: String },
    /// Valid JSON, but not the expected shape at file level (for example not an array).
    #[error("{path}: not a {format} file: {message}")]
    Shape { path: PathBuf, format: Format, message: String },
    /// The parquet file is unreadable: truncated (no footer), corrupt metadata or pages.
    #[error("{path}: unreadable parquet file (truncated or corrupt): {message}")]
    Parquet { path: PathBuf, message: String },
    /// A required column is missing or has the wrong type.
    #[error("{path}: column {column:?}: {problem}")]
    Column { path: PathBuf, column: String, problem: String },
    /// The file was modified while it was imported (its size or modification time changed).
    #[error("{path}: the file changed during the import; import it again")]
    FileChanged { path: PathBuf },
    /// The artifact store failed while storing the image of a row.
    #[error("{path}: storing the image of row {row_number}: {source}")]
    Artifact { path: PathBuf, row_number: u64, source: Box<artifacts::ArtifactError> },
    /// The sink refused a batch or the commit.
    #[error("{path}: row sink: {source}")]
    Sink { path: PathBuf, source: SinkError },
    /// The reading thread failed unexpectedly.
    #[error("{path}: import task: {message}")]
    Internal { path: PathBuf, message: String },
}

impl ImportError {
    /// Whether running the same import again may succeed without changing the file: artifact store,
    /// sink and I/O failures; never a problem with the file's content.
    pub fn is_retryable(&self) -> bool {
        match self {
            ImportError::Artifact { source, .. } => source.is_retryable(),
            ImportError::Sink { .. } | ImportError::Internal { .. } | ImportError::FileChanged { .. } => true,
            ImportError::Io { source, .. } => source.kind() != std::io::ErrorKind::NotFound,
            _ => false,
        }
    }
}
