//! `PgSink`: the `ingest::RowSink` over one Postgres transaction. `begin` opens it and finds or creates the
//! dataset, `accept` inserts rows that are not there yet, `commit` records the import and commits; a
//! rollback (or a drop) leaves nothing.

use ingest::{ImportError, ImportReport, Row, RowKind, RowSink, SinkError, SourceFile};
use serde_json::{Value, json};
use store::dataset_import::{ImportedRow, NewImport};
use store::{PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Where the rows go: an existing dataset, or the one a name gives (reused when it already holds this file).
#[derive(Debug, Clone)]
pub enum Target {
    Existing(Uuid),
    Named(String),
}

pub struct PgSink {
    pool: PgPool,
    target: Target,
    tx: Option<Transaction<'static, Postgres>>,
    pub dataset: Option<Uuid>,
    pub rows_new: u64,
    /// `false` when the same file had been imported into the dataset before (nothing new was recorded).
    pub recorded: bool,
}

/// The dataset named in `Target::Existing` does not exist.
#[derive(Debug, thiserror::Error)]
#[error("dataset {0} does not exist")]
pub struct NoSuchDataset(pub Uuid);

impl PgSink {
    pub fn new(pool: PgPool, target: Target) -> Self {
        Self { pool, target, tx: None, dataset: None, rows_new: 0, recorded: false }
    }

    fn tx(&mut self) -> Result<&mut Transaction<'static, Postgres>, SinkError> {
        self.tx.as_mut().ok_or_else(|| "row sink used before begin".into())
    }
}

pub fn kind_name(kind: RowKind) -> &'static str {
    match kind {
        RowKind::Prompt => "prompt",
        RowKind::CriticPointwise => "critic_pointwise",
        RowKind::CriticPairwise => "critic_pairwise",
    }
}

fn to_imported(row: Row) -> Result<ImportedRow, SinkError> {
    let question = row
        .conversations
        .iter()
        .find(|turn| turn.from == "human")
        .or_else(|| row.conversations.first())
        .map(|turn| turn.value.clone())
        .unwrap_or_default();
    let image_meta =
        row.image.as_ref().map(|i| json!({"width": i.width, "height": i.height, "format": i.format, "size": i.size}));
    Ok(ImportedRow {
        external_id: row.id,
        kind: kind_name(row.kind).to_owned(),
        source: row.source,
        question,
        conversations: serde_json::to_value(&row.conversations)?,
        image_ref: row.image.map(|i| i.digest.to_hex()),
        image_meta,
        extra: Value::Object(row.extra),
    })
}

/// The rejected rows as stored and answered: `{row_number, id, reason: {code, ...}, message}`.
pub fn rejected_json(report: &ImportReport) -> Value {
    Value::Array(
        report
            .rejected
            .iter()
            .map(|r| json!({"row_number": r.row_number, "id": r.id, "reason": r.reason, "message": r.reason.to_string()}))
            .collect(),
    )
}

impl RowSink for PgSink {
    async fn begin(&mut self, file: &SourceFile) -> Result<(), SinkError> {
        let mut tx = self.pool.begin().await?;
        let dataset = match &self.target {
            Target::Existing(id) => {
                if !store::dataset_import::lock_dataset(&mut tx, *id).await? {
                    return Err(Box::new(NoSuchDataset(*id)));
                }
                *id
            }
            Target::Named(name) => {
                let digest = file.digest.to_hex();
                match store::dataset_import::find_by_import(&mut tx, name, &digest, kind_name(file.kind)).await? {
                    Some(id) => {
                        store::dataset_import::lock_dataset(&mut tx, id).await?;
                        id
                    }
                    None => store::dataset_import::create_dataset(&mut tx, name).await?,
                }
            }
        };
        self.dataset = Some(dataset);
        self.tx = Some(tx);
        Ok(())
    }

    async fn accept(&mut self, rows: Vec<Row>) -> Result<(), SinkError> {
        let dataset = self.dataset.ok_or("row sink used before begin")?;
        let rows = rows.into_iter().map(to_imported).collect::<Result<Vec<_>, _>>()?;
        let new = store::dataset_import::insert_rows(self.tx()?, dataset, &rows).await?;
        self.rows_new += new;
        Ok(())
    }

    async fn commit(&mut self, report: &ImportReport) -> Result<(), SinkError> {
        let dataset = self.dataset.ok_or("row sink used before begin")?;
        let digest = report.file.digest.to_hex();
        let import = NewImport {
            dataset,
            file_digest: &digest,
            file_size: report.file.size as i64,
            format: report.file.format.name(),
            kind: kind_name(report.file.kind),
            rows_ok: report.rows_ok as i64,
            rows_new: self.rows_new as i64,
            rows_rejected: report.rows_rejected as i64,
            images_stored: report.images_stored as i64,
            images_deduplicated: report.images_deduplicated as i64,
            rejected: rejected_json(report),
        };
        let recorded = store::dataset_import::record_import(self.tx()?, &import).await?;
        self.recorded = recorded;
        let tx = self.tx.take().ok_or("row sink committed twice")?;
        tx.commit().await?;
        Ok(())
    }

    async fn rollback(&mut self, error: &ImportError) {
        tracing::info!(%error, "dataset import rolled back");
        if let Some(tx) = self.tx.take()
            && let Err(e) = tx.rollback().await
        {
            tracing::warn!(error = %e, "rolling back a dataset import failed (the connection drops it)");
        }
    }
}
