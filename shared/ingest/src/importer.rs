//! `Importer`: validate the file, read it on a blocking thread (records, image files, image checks), store
//! images in the artifact store, and hand rows to a `RowSink` in batches, with backpressure.

use crate::image_check::{CheckedImage, ImageLimits, check_image};
use crate::row::{ImageRef, RejectReason, Rejected, Row};
use crate::source::{self, RawImage, RawRecord, ReadSettings, SourceItem, Stopped};
use crate::{Format, ImportError, RowKind, RowSink};
use artifacts::{ArtifactStore, Digest, DigestHasher, Kind};
use bytes::Bytes;
use futures::StreamExt;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How to import a file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub format: Format,
    /// The kind of every row; inferred from the path when `None` (see [`RowKind::infer_from_path`]).
    pub kind: Option<RowKind>,
    /// The folder that relative image paths are resolved against; the file's own folder when `None`.
    pub image_root: Option<PathBuf>,
    pub limits: ImageLimits,
    /// Rows per sink batch.
    pub batch_rows: usize,
    /// A batch is cut early once its images hold this many bytes (bounds memory with large images).
    pub batch_image_bytes: usize,
    /// Rows per parquet record batch.
    pub parquet_batch_rows: usize,
    /// How many rejected rows the report lists in full (all are counted).
    pub max_rejections_listed: usize,
    /// Concurrent image uploads.
    pub image_puts_in_flight: usize,
    /// Threads that check (decode) the images of a batch in parallel.
    pub decode_threads: usize,
    /// Whether records may name image files (resolved against `image_root`). `false` for files uploaded to
    /// a server, which must not read its own files on a record's say: such rows are rejected.
    pub image_files: bool,
}

impl ImportOptions {
    pub fn new(format: Format) -> Self {
        Self {
            format,
            kind: None,
            image_root: None,
            limits: ImageLimits::default(),
            batch_rows: 256,
            batch_image_bytes: 16 * 1024 * 1024,
            parquet_batch_rows: 64,
            max_rejections_listed: 10_000,
            image_puts_in_flight: 8,
            decode_threads: std::thread::available_parallelism().map_or(2, usize::from),
            image_files: true,
        }
    }
}

/// The file being imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceFile {
    pub path: PathBuf,
    pub format: Format,
    pub kind: RowKind,
    /// sha256 of the whole file: the same content gives the same digest, whatever its name.
    pub digest: Digest,
    pub size: u64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    pub file: SourceFile,
    pub rows_ok: u64,
    pub rows_rejected: u64,
    /// The first `max_rejections_listed` rejected rows, in file order.
    pub rejected: Vec<Rejected>,
    /// Images written to the artifact store by this import.
    pub images_stored: u64,
    /// Image references whose content was already stored (earlier imports, or earlier rows of this one).
    pub images_deduplicated: u64,
}

/// Imports files into an artifact store (images) and a sink (rows).
#[derive(Debug, Clone)]
pub struct Importer {
    store: ArtifactStore,
    options: ImportOptions,
}

/// A record after the blocking side is done with it.
enum Prepared {
    Row { record: RawRecord, image: Option<PreparedImage> },
    Rejected(Rejected),
}

enum PreparedImage {
    /// Read and checked: stored by this import unless already there.
    Checked(Bytes, CheckedImage),
    /// A `sha256:` reference: read back from the store and checked when the batch is stored.
    Stored(Digest),
}

const SEEN_DIGESTS_CAP: usize = 100_000;

/// The row number of the first row of the file with each id. Holds every id of the file (a few dozen bytes
/// a row: a million-row file costs tens of MB), since a duplicate may come anywhere after its first row.
#[derive(Default)]
struct FirstRows(HashMap<Box<str>, u64>);

impl FirstRows {
    /// Rejects the rows whose id an earlier row (of this batch or an earlier one) already has; the first
    /// row with an id claims it even when it is rejected for another reason.
    fn reject_duplicates(&mut self, batch: Vec<Prepared>) -> Vec<Prepared> {
        batch
            .into_iter()
            .map(|item| match item {
                Prepared::Row { record, image } => match self.0.get(record.id.as_str()) {
                    Some(&first_row) => Prepared::Rejected(Rejected {
                        row_number: record.row_number,
                        id: Some(record.id.clone()),
                        reason: RejectReason::DuplicateId { id: record.id, first_row },
                    }),
                    None => {
                        self.0.insert(record.id.as_str().into(), record.row_number);
                        Prepared::Row { record, image }
                    }
                },
                Prepared::Rejected(rejected) => {
                    if let Some(id) = &rejected.id
                        && !self.0.contains_key(id.as_str())
                    {
                        self.0.insert(id.as_str().into(), rejected.row_number);
                    }
                    Prepared::Rejected(rejected)
                }
            })
            .collect()
    }
}

impl Importer {
    pub fn new(store: ArtifactStore, options: ImportOptions) -> Self {
        Self { store, options }
    }

    pub fn options(&self) -> &ImportOptions {
        &self.options
    }

    /// Imports one file. On `Ok` the sink has committed every accepted row; on `Err` it has been rolled
    /// back (or was never begun: validation failures happen before `begin` and before any image is stored).
    pub async fn import<S: RowSink>(&self, path: &Path, sink: &mut S) -> Result<ImportReport, ImportError> {
        let stamp_before = stamp(path)?;
        let file = self.validate(path).await?;
        sink.begin(&file).await.map_err(|source| ImportError::Sink { path: path.to_path_buf(), source })?;
        let outcome = self.run(&file, sink).await.and_then(|report| {
            // The digest and the rows must describe the same content.
            if stamp(path)? == stamp_before {
                Ok(report)
            } else {
                Err(ImportError::FileChanged { path: path.to_path_buf() })
            }
        });
        match outcome {
            Ok(report) => match sink.commit(&report).await {
                Ok(()) => Ok(report),
                Err(source) => {
                    let error = ImportError::Sink { path: path.to_path_buf(), source };
                    sink.rollback(&error).await;
                    Err(error)
                }
            },
            Err(error) => {
                sink.rollback(&error).await;
                Err(error)
            }
        }
    }

    /// The validation pass: structure (syntax, schema, truncation) and the file's digest. Stores nothing.
    pub async fn validate(&self, path: &Path) -> Result<SourceFile, ImportError> {
        let format = self.options.format;
        let kind = self.options.kind.unwrap_or_else(|| RowKind::infer_from_path(path));
        let owned = path.to_path_buf();
        let checked = tokio::task::spawn_blocking(move || -> Result<(Digest, u64), ImportError> {
            source::validate(format, &owned)?;
            hash_file(&owned)
        })
        .await
        .map_err(|e| ImportError::Internal { path: path.to_path_buf(), message: e.to_string() })?;
        let (digest, size) = checked?;
        Ok(SourceFile { path: path.to_path_buf(), format, kind, digest, size })
    }

    async fn run<S: RowSink>(&self, file: &SourceFile, sink: &mut S) -> Result<ImportReport, ImportError> {
        let (sender, mut receiver) = mpsc::channel::<Vec<SourceItem>>(2);
        let reader = self.spawn_reader(file, sender);
        let mut report = ImportReport {
            file: file.clone(),
            rows_ok: 0,
            rows_rejected: 0,
            rejected: Vec::new(),
            images_stored: 0,
            images_deduplicated: 0,
        };
        let mut seen: HashSet<Digest> = HashSet::new();
        let mut ids = FirstRows::default();
        let mut failure = None;
        // Three stages overlap: the reader fills the channel, the next batch is decoded while this one is
        // stored and handed to the sink.
        let mut decoding = receiver.recv().await.map(|items| self.start_prepare(items));
        while let Some(handles) = decoding.take() {
            let batch = match finish_prepare(file, handles).await {
                Ok(batch) => batch,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            decoding = receiver.recv().await.map(|items| self.start_prepare(items));
            let batch = ids.reject_duplicates(batch);
            match self.store_batch(file, batch, &mut report, &mut seen).await {
                Ok(rows) if rows.is_empty() => {}
                Ok(rows) => {
                    if let Err(source) = sink.accept(rows).await {
                        failure = Some(ImportError::Sink { path: file.path.clone(), source });
                    }
                }
                Err(error) => failure = Some(error),
            }
            if failure.is_some() {
                break;
            }
        }
        drop(receiver);
        let read = reader.await.map_err(|e| ImportError::Internal { path: file.path.clone(), message: e.to_string() });
        if let Some(error) = failure {
            return Err(error);
        }
        read??;
        Ok(report)
    }

    /// Runs the reader on a blocking thread; records travel in batches cut by row count and by the bytes of
    /// their embedded images.
    fn spawn_reader(
        &self,
        file: &SourceFile,
        sender: mpsc::Sender<Vec<SourceItem>>,
    ) -> tokio::task::JoinHandle<Result<(), ImportError>> {
        let options = self.options.clone();
        let path = file.path.clone();
        let settings = ReadSettings {
            image_root: options
                .image_root
                .clone()
                .unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default()),
            parquet_batch_rows: options.parquet_batch_rows,
            image_files: options.image_files,
        };
        tokio::task::spawn_blocking(move || {
            let mut batch: Vec<SourceItem> = Vec::with_capacity(options.batch_rows);
            let mut batch_bytes = 0usize;
            let mut emit = |item: SourceItem| -> Result<(), Stopped> {
                if let SourceItem::Record(RawRecord { image: Some(RawImage::Bytes(bytes)), .. }) = &item {
                    batch_bytes += bytes.len();
                }
                batch.push(item);
                if batch.len() >= options.batch_rows || batch_bytes >= options.batch_image_bytes {
                    batch_bytes = 0;
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(options.batch_rows));
                    sender.blocking_send(full).map_err(|_| Stopped)?;
                }
                Ok(())
            };
            source::read(options.format, &path, &settings, &mut emit)?;
            if !batch.is_empty() {
                // A closed channel means the consumer already failed; its error is the one reported.
                let _ = sender.blocking_send(batch);
            }
            Ok(())
        })
    }

    /// Starts reading and checking the images of a batch on `decode_threads` blocking threads.
    fn start_prepare(&self, mut items: Vec<SourceItem>) -> Vec<JoinHandle<Vec<Prepared>>> {
        let chunk_len = items.len().div_ceil(self.options.decode_threads.max(1)).max(1);
        let mut chunks = Vec::new();
        while !items.is_empty() {
            let rest = items.split_off(chunk_len.min(items.len()));
            let chunk = std::mem::replace(&mut items, rest);
            let limits = self.options.limits.clone();
            chunks.push(tokio::task::spawn_blocking(move || {
                chunk.into_iter().map(|item| prepare(item, &limits)).collect::<Vec<_>>()
            }));
        }
        chunks
    }

    /// Stores the batch's images (each distinct new digest once, several at a time) and builds its rows.
    async fn store_batch(
        &self,
        file: &SourceFile,
        batch: Vec<Prepared>,
        report: &mut ImportReport,
        seen: &mut HashSet<Digest>,
    ) -> Result<Vec<Row>, ImportError> {
        let mut uploads: Vec<(u64, Digest, Bytes)> = Vec::new();
        let mut first_in_import: HashSet<Digest> = HashSet::new();
        for item in &batch {
            if let Prepared::Row { record, image: Some(PreparedImage::Checked(bytes, checked)) } = item
                && !seen.contains(&checked.digest)
                && first_in_import.insert(checked.digest)
            {
                uploads.push((record.row_number, checked.digest, bytes.clone()));
            }
        }
        let store = &self.store;
        let results: Vec<(u64, Result<artifacts::Stored, artifacts::ArtifactError>)> = futures::stream::iter(
            uploads
                .into_iter()
                .map(|(row_number, _, bytes)| async move { (row_number, store.put_bytes(Kind::Image, bytes).await) }),
        )
        .buffered(self.options.image_puts_in_flight.max(1))
        .collect()
        .await;
        let mut newly_stored: HashSet<Digest> = HashSet::new();
        for (row_number, result) in results {
            let stored = result.map_err(|source| ImportError::Artifact {
                path: file.path.clone(),
                row_number,
                source: Box::new(source),
            })?;
            if stored.newly_stored {
                newly_stored.insert(stored.digest);
            }
        }
        if seen.len() + first_in_import.len() > SEEN_DIGESTS_CAP {
            seen.clear();
        }
        seen.extend(first_in_import.iter().copied());

        let mut rows = Vec::with_capacity(batch.len());
        for item in batch {
            match item {
                Prepared::Rejected(rejected) => {
                    report.rows_rejected += 1;
                    if report.rejected.len() < self.options.max_rejections_listed {
                        report.rejected.push(rejected);
                    }
                }
                Prepared::Row { record, image } => {
                    let image = match image {
                        None => None,
                        Some(PreparedImage::Checked(bytes, checked)) => {
                            if newly_stored.remove(&checked.digest) {
                                report.images_stored += 1;
                            } else {
                                report.images_deduplicated += 1;
                            }
                            Some(image_ref(&checked, bytes.len()))
                        }
                        Some(PreparedImage::Stored(digest)) => match self.stored_image(file, &record, digest).await? {
                            Ok(image) => {
                                report.images_deduplicated += 1;
                                Some(image)
                            }
                            Err(reason) => {
                                report.rows_rejected += 1;
                                if report.rejected.len() < self.options.max_rejections_listed {
                                    let id = Some(record.id.clone());
                                    report.rejected.push(Rejected { row_number: record.row_number, id, reason });
                                }
                                continue;
                            }
                        },
                    };
                    report.rows_ok += 1;
                    rows.push(Row {
                        row_number: record.row_number,
                        id: record.id,
                        source: record.source,
                        kind: file.kind,
                        conversations: record.conversations,
                        image,
                        extra: record.extra,
                    });
                }
            }
        }
        Ok(rows)
    }
}

impl Importer {
    /// A `sha256:` reference: the stored image, read back (verified against its digest) and checked like a
    /// new one; a missing or unacceptable artifact rejects the row.
    async fn stored_image(
        &self,
        file: &SourceFile,
        record: &RawRecord,
        digest: Digest,
    ) -> Result<Result<ImageRef, RejectReason>, ImportError> {
        let bytes = match self.store.get(Kind::Image, &digest).await {
            Ok(bytes) => bytes,
            Err(artifacts::ArtifactError::NotFound { .. }) => {
                return Ok(Err(RejectReason::ImageArtifactMissing { digest: digest.to_hex() }));
            }
            Err(source) => {
                return Err(ImportError::Artifact {
                    path: file.path.clone(),
                    row_number: record.row_number,
                    source: Box::new(source),
                });
            }
        };
        let limits = self.options.limits.clone();
        let size = bytes.len();
        let checked = tokio::task::spawn_blocking(move || check_image(&bytes, &limits))
            .await
            .map_err(|e| ImportError::Internal { path: file.path.clone(), message: e.to_string() })?;
        Ok(checked.map(|checked| image_ref(&checked, size)).map_err(|problem| RejectReason::Image { problem }))
    }
}

fn image_ref(checked: &CheckedImage, size: usize) -> ImageRef {
    ImageRef {
        digest: checked.digest,
        width: checked.width,
        height: checked.height,
        format: checked.format.to_owned(),
        size: size as u64,
    }
}

/// The prepared batch, in row order.
async fn finish_prepare(
    file: &SourceFile,
    chunks: Vec<JoinHandle<Vec<Prepared>>>,
) -> Result<Vec<Prepared>, ImportError> {
    let mut prepared = Vec::new();
    for chunk in chunks {
        let done =
            chunk.await.map_err(|e| ImportError::Internal { path: file.path.clone(), message: e.to_string() })?;
        prepared.extend(done);
    }
    Ok(prepared)
}

/// Loads and checks a record's image (blocking: file reads and decoding).
fn prepare(item: SourceItem, limits: &ImageLimits) -> Prepared {
    let mut record = match item {
        SourceItem::Rejected(rejected) => return Prepared::Rejected(rejected),
        SourceItem::Record(record) => record,
    };
    let image = match record.image.take() {
        None => None,
        Some(RawImage::Stored(digest)) => Some(PreparedImage::Stored(digest)),
        Some(raw) => match load(raw, limits).and_then(|bytes| {
            check_image(&bytes, limits)
                .map(|checked| PreparedImage::Checked(Bytes::from(bytes), checked))
                .map_err(|problem| RejectReason::Image { problem })
        }) {
            Ok(image) => Some(image),
            Err(reason) => {
                return Prepared::Rejected(Rejected { row_number: record.row_number, id: Some(record.id), reason });
            }
        },
    };
    Prepared::Row { record, image }
}

fn load(raw: RawImage, limits: &ImageLimits) -> Result<Vec<u8>, RejectReason> {
    match raw {
        RawImage::Bytes(bytes) => Ok(bytes),
        RawImage::Stored(digest) => Err(RejectReason::ImageArtifactMissing { digest: digest.to_hex() }),
        RawImage::File(path) => {
            let shown = path.display().to_string();
            let metadata = match std::fs::metadata(&path) {
                Ok(metadata) if metadata.is_file() => metadata,
                Ok(_) => return Err(RejectReason::ImageFileMissing { path: shown }),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(RejectReason::ImageFileMissing { path: shown });
                }
                Err(e) => return Err(RejectReason::ImageFileUnreadable { path: shown, error: e.to_string() }),
            };
            if metadata.len() > limits.max_bytes {
                let problem =
                    crate::image_check::ImageProblem::TooManyBytes { size: metadata.len(), max: limits.max_bytes };
                return Err(RejectReason::Image { problem });
            }
            std::fs::read(&path).map_err(|e| RejectReason::ImageFileUnreadable { path: shown, error: e.to_string() })
        }
    }
}

/// Size and modification time: what changes when a file is rewritten.
fn stamp(path: &Path) -> Result<(u64, Option<std::time::SystemTime>), ImportError> {
    let metadata = std::fs::metadata(path).map_err(|source| ImportError::Io {
        path: path.to_path_buf(),
        action: "inspecting",
        source,
    })?;
    Ok((metadata.len(), metadata.modified().ok()))
}

fn hash_file(path: &Path) -> Result<(Digest, u64), ImportError> {
    use std::io::Read;
    let io = |action, source| ImportError::Io { path: path.to_path_buf(), action, source };
    let mut file = std::fs::File::open(path).map_err(|e| io("opening", e))?;
    let mut hasher = DigestHasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).map_err(|e| io("reading", e))?;
        if n == 0 {
            return Ok((hasher.finish(), size));
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
}
