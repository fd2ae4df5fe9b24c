//! `RowSink`: where accepted rows go (Postgres in production, memory in tests), transactionally.

use crate::{ImportError, ImportReport, Row, SinkError, SourceFile};
use std::future::Future;

/// Receives the rows of one import. The importer calls `begin` once, then `accept` for each batch, then
/// exactly one of `commit` (the file was read to the end) or `rollback` (a file-level error, or a failed
/// `accept`): a sink that keeps rows in one transaction from `begin` to `commit` therefore stores a whole
/// file's accepted rows or none of them.
pub trait RowSink: Send {
    /// The import of `file` starts. `file.digest` identifies the content, so a sink can tell a re-import.
    fn begin(&mut self, file: &SourceFile) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// The next accepted rows, in file order. Their images are already stored.
    fn accept(&mut self, rows: Vec<Row>) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// The whole file was read: make the rows durable. `report` lists the rejected rows.
    fn commit(&mut self, report: &ImportReport) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// The import failed: discard every row accepted since `begin`.
    fn rollback(&mut self, error: &ImportError) -> impl Future<Output = ()> + Send;
}

/// A sink that keeps rows in memory: `pending` until commit, then `committed`. For tests and tools.
#[derive(Debug, Default)]
pub struct MemorySink {
    pub pending: Vec<Row>,
    pub committed: Vec<Row>,
    pub commits: u64,
    pub rollbacks: u64,
    /// Count rows without keeping them (for measuring memory on large files).
    pub count_only: bool,
    pub rows_seen: u64,
}

impl MemorySink {
    pub fn counting() -> Self {
        Self { count_only: true, ..Self::default() }
    }
}

impl RowSink for MemorySink {
    async fn begin(&mut self, _file: &SourceFile) -> Result<(), SinkError> {
        self.pending.clear();
        Ok(())
    }

    async fn accept(&mut self, rows: Vec<Row>) -> Result<(), SinkError> {
        self.rows_seen += rows.len() as u64;
        if !self.count_only {
            self.pending.extend(rows);
        }
        Ok(())
    }

    async fn commit(&mut self, _report: &ImportReport) -> Result<(), SinkError> {
        self.committed.append(&mut self.pending);
        self.commits += 1;
        Ok(())
    }

    async fn rollback(&mut self, _error: &ImportError) {
        self.pending.clear();
        self.rollbacks += 1;
    }
}
