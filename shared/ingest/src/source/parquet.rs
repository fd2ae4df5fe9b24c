//! Parquet: the schema is checked from the footer before any row is read; rows are then read in record
//! batches of `parquet_batch_rows`, projected to the columns used, so memory holds one batch (plus the
//! reader's current pages), never a row group's worth of images.

use super::parquet_columns::{Columns, Conversations, Images, KNOWN_COLUMNS, extra_value, is_extra_type};
use super::{Emit, RawImage, RawRecord, ReadError, ReadSettings, SourceItem, rejected, resolve_image_path};
use crate::ImportError;
use crate::row::{RejectReason, Turn};
use arrow_array::{Array, RecordBatch};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::path::Path;

type Builder = ParquetRecordBatchReaderBuilder<File>;

fn open(path: &Path) -> Result<Builder, ImportError> {
    let file =
        File::open(path).map_err(|source| ImportError::Io { path: path.to_path_buf(), action: "opening", source })?;
    let file_len = file
        .metadata()
        .map_err(|source| ImportError::Io { path: path.to_path_buf(), action: "inspecting", source })?
        .len();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| parquet_error(path, e))?;
    for (index, row_group) in builder.metadata().row_groups().iter().enumerate() {
        for column in row_group.columns() {
            let (start, length) = column.byte_range();
            if start.saturating_add(length) > file_len {
                return Err(ImportError::Parquet {
                    path: path.to_path_buf(),
                    message: format!(
                        "row group {index}, column {}: bytes {start}..{} are past the end ({file_len} bytes)",
                        column.column_path(),
                        start + length
                    ),
                });
            }
        }
    }
    let empty = RecordBatch::new_empty(builder.schema().clone());
    Columns::of(&empty).map_err(|(column, problem)| ImportError::Column {
        path: path.to_path_buf(),
        column,
        problem,
    })?;
    Ok(builder)
}

fn parquet_error(path: &Path, error: impl std::fmt::Display) -> ImportError {
    ImportError::Parquet { path: path.to_path_buf(), message: error.to_string() }
}

pub(crate) fn validate(path: &Path) -> Result<(), ImportError> {
    open(path).map(|_| ())
}

pub(crate) fn read(path: &Path, settings: &ReadSettings, emit: &mut Emit<'_>) -> Result<(), ReadError> {
    let builder = open(path)?;
    let used: Vec<usize> = builder
        .schema()
        .fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| KNOWN_COLUMNS.contains(&f.name().as_str()) || is_extra_type(f.data_type()))
        .map(|(i, _)| i)
        .collect();
    let mask = ProjectionMask::roots(builder.parquet_schema(), used);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(settings.parquet_batch_rows.max(1))
        .build()
        .map_err(|e| parquet_error(path, e))?;
    let mut row_number = 0u64;
    for batch in reader {
        let batch = batch.map_err(|e| parquet_error(path, format!("after row {row_number}: {e}")))?;
        let columns = Columns::of(&batch).map_err(|(column, problem)| ImportError::Column {
            path: path.to_path_buf(),
            column,
            problem,
        })?;
        for i in 0..batch.num_rows() {
            row_number += 1;
            emit(row(row_number, &columns, i, settings))?;
        }
    }
    Ok(())
}

fn row(row_number: u64, columns: &Columns<'_>, i: usize, settings: &ReadSettings) -> SourceItem {
    let Some(id) = columns.id.get(i) else {
        return rejected(row_number, None, RejectReason::MissingField { field: "id".into() });
    };
    let fail = |reason| rejected(row_number, Some(id.to_owned()), reason);
    let conversations = match (&columns.conversations, &columns.question) {
        (Some(list), _) => match turns(list, i) {
            Ok(turns) => turns,
            Err(reason) => return fail(reason),
        },
        (None, Some(questions)) => match questions.get(i) {
            Some(q) => vec![Turn { from: "human".into(), value: q.to_owned() }],
            None => return fail(RejectReason::MissingField { field: "question".into() }),
        },
        (None, None) => return fail(RejectReason::MissingField { field: "conversations".into() }),
    };
    let image = match columns.image.as_ref().map(|images| image(images, i, settings)) {
        None | Some(Ok(None)) => None,
        Some(Ok(Some(image))) => Some(image),
        Some(Err(reason)) => return fail(reason),
    };
    let extra = columns
        .extras
        .iter()
        .filter_map(|(name, array)| extra_value(array.as_ref(), i).map(|v| ((*name).to_owned(), v)))
        .collect();
    SourceItem::Record(RawRecord {
        row_number,
        id: id.to_owned(),
        source: columns.source.as_ref().and_then(|s| s.get(i)).map(str::to_owned),
        conversations,
        image,
        extra,
    })
}

fn turns(list: &Conversations<'_>, i: usize) -> Result<Vec<Turn>, RejectReason> {
    let Some(items) = list.get(i) else {
        return Err(RejectReason::MissingField { field: "conversations".into() });
    };
    let items = arrow_array::cast::AsArray::as_struct(items.as_ref());
    let from = items.column_by_name("from").and_then(|c| super::parquet_columns::Strings::of(c.as_ref()));
    let value = items.column_by_name("value").and_then(|c| super::parquet_columns::Strings::of(c.as_ref()));
    let (Some(from), Some(value)) = (from, value) else {
        return Err(RejectReason::MissingField { field: "conversations[].from/value".into() });
    };
    if items.is_empty() {
        return Err(RejectReason::EmptyConversation);
    }
    (0..items.len())
        .map(|t| match (items.is_valid(t), from.get(t), value.get(t)) {
            (true, Some(from), Some(value)) => Ok(Turn { from: from.to_owned(), value: value.to_owned() }),
            _ => Err(RejectReason::WrongType {
                field: format!("conversations[{t}]"),
                expected: "{from, value} strings".into(),
            }),
        })
        .collect()
}

fn image(images: &Images<'_>, i: usize, settings: &ReadSettings) -> Result<Option<RawImage>, RejectReason> {
    let from_path = |path: &str| resolve_image_path(settings, path).map(RawImage::File);
    match images {
        Images::HfStruct { array, bytes, path } => {
            if array.is_null(i) {
                return Ok(None);
            }
            if let Some(data) = bytes.as_ref().and_then(|b| b.get(i)) {
                return Ok(Some(RawImage::Bytes(data.to_vec())));
            }
            match path.as_ref().and_then(|p| p.get(i)) {
                Some(p) => from_path(p).map(Some),
                None => Ok(None),
            }
        }
        Images::Binary(bytes) => Ok(bytes.get(i).map(|b| RawImage::Bytes(b.to_vec()))),
        Images::Path(paths) => paths.get(i).map(from_path).transpose(),
    }
}
