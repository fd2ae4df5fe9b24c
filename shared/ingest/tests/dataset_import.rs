//! Import of the three formats from files written by pyarrow and pillow (tests/make_fixtures.py).

mod support;

use artifacts::Kind;
use futures::TryStreamExt;
use ingest::{Format, ImageProblem, ImportError, Importer, MemorySink, RejectReason, RowKind};
use ingest::{ImportReport, Row, RowSink, SinkError, SourceFile};
use std::collections::HashSet;
use std::time::Duration;
use support::{assert_matches, expected, fixtures, images, import, importer, store};

#[tokio::test]
async fn dataset_critic_parquet_imports_both_configs() {
    let t = store();
    let mut all_images = HashSet::new();
    for (config, kind) in [("pairwise", RowKind::CriticPairwise), ("pointwise", RowKind::CriticPointwise)] {
        let path = fixtures().join(format!("critic/{config}/train-00000-of-00001.parquet"));
        let (report, sink) = import(&t.store, Format::Parquet, &path).await;
        assert_eq!(sink.commits, 1);
        assert!(sink.committed.iter().all(|row| row.kind == kind), "kind inferred from the {config}/ folder");
        assert_eq!(report.file.kind, kind);
        assert_matches(&t.store, &report, &sink.committed, &expected(&format!("critic_{config}"))).await;
        all_images.extend(sink.committed.iter().filter_map(|r| r.image.as_ref().map(|i| i.digest)));
        let reasons: Vec<&RejectReason> = report.rejected.iter().map(|r| &r.reason).collect();
        assert!(
            reasons
                .iter()
                .any(|r| matches!(r, RejectReason::Image { problem: ImageProblem::TooLarge { width: 200_000, .. } })),
            "the decompression bomb is refused by its header: {reasons:?}"
        );
        assert!(reasons.iter().any(|r| matches!(r, RejectReason::Image { problem: ImageProblem::Undecodable { .. } })));
    }
    assert_eq!(images(&t.store).await, all_images, "exactly the accepted rows' images are stored");
    assert_eq!(all_images.len(), 3);
}

#[tokio::test]
async fn dataset_llava_json_with_image_folder_imports() {
    let t = store();
    let mut options = importer(&t.store, Format::LlavaJson).options().clone();
    options.image_root = Some(fixtures().join("llava/images"));
    let mut sink = MemorySink::default();
    let report = Importer::new(t.store.clone(), options)
        .import(&fixtures().join("llava/data.json"), &mut sink)
        .await
        .expect("import");
    assert_matches(&t.store, &report, &sink.committed, &expected("llava")).await;
    assert!(sink.committed.iter().all(|row| row.kind == RowKind::Prompt));
    assert_eq!((report.images_stored, report.images_deduplicated), (2, 1), "row 12 reuses row 1's image");
    let reasons: Vec<String> = report.rejected.iter().map(|r| r.reason.to_string()).collect();
    assert!(reasons[0].contains("coco/missing.png"), "{reasons:?}");
    assert!(reasons[1].contains("truncated") || reasons[1].contains("decode"), "{reasons:?}");
    assert!(reasons[2].contains("5000x10"), "{reasons:?}");
    assert!(reasons[3].contains("not an image"), "{reasons:?}");
}

#[tokio::test]
async fn dataset_jsonl_imports_paths_and_data_uris() {
    let t = store();
    let (report, sink) = import(&t.store, Format::Jsonl, &fixtures().join("prompts.jsonl")).await;
    assert_matches(&t.store, &report, &sink.committed, &expected("jsonl")).await;
    assert_eq!(report.images_stored, 3);
}

#[tokio::test]
async fn dataset_file_level_errors_store_nothing() {
    let broken = fixtures().join("broken");
    type IsExpected = fn(&ImportError) -> bool;
    let cases: [(Format, &str, IsExpected); 6] = [
        (Format::Parquet, "truncated.parquet", |e| matches!(e, ImportError::Parquet { .. })),
        (
            Format::Parquet,
            "id_not_string.parquet",
            |e| matches!(e, ImportError::Column { column, .. } if column == "id"),
        ),
        (
            Format::Parquet,
            "no_conversations.parquet",
            |e| matches!(e, ImportError::Column { column, .. } if column == "conversations"),
        ),
        (Format::LlavaJson, "truncated.json", |e| matches!(e, ImportError::Syntax { line: 1, .. })),
        (Format::LlavaJson, "not_array.json", |e| matches!(e, ImportError::Shape { .. })),
        (Format::Jsonl, "truncated.jsonl", |e| matches!(e, ImportError::Syntax { line: 8, .. })),
    ];
    for (format, name, expected_error) in cases {
        let t = store();
        let mut sink = MemorySink::default();
        let path = broken.join(name);
        let error = importer(&t.store, format).import(&path, &mut sink).await.expect_err(name);
        assert!(expected_error(&error), "{name}: unexpected error {error:?}");
        assert!(error.to_string().contains(name), "the error names the file: {error}");
        assert!(!error.is_retryable(), "{name}: a broken file is not retryable");
        assert_eq!((sink.commits, sink.committed.len(), sink.pending.len()), (0, 0, 0), "{name}: rows stored");
        assert!(images(&t.store).await.is_empty(), "{name}: validation fails before any image is stored");
    }
}

#[tokio::test]
async fn dataset_corrupt_page_mid_file_rolls_back_the_sink() {
    let t = store();
    let mut sink = MemorySink::default();
    let path = fixtures().join("broken/corrupt_page.parquet");
    let error = importer(&t.store, Format::Parquet).import(&path, &mut sink).await.expect_err("corrupt page");
    assert!(matches!(&error, ImportError::Parquet { message, .. } if message.contains("CRC")), "{error:?}");
    assert!(sink.rows_seen > 0, "rows before the damaged row group reached the sink");
    assert_eq!((sink.commits, sink.rollbacks, sink.committed.len(), sink.pending.len()), (0, 1, 0, 0));
    // Images stored before the failure are referenced by nothing: garbage collection takes them.
    let report = t.store.gc(&HashSet::new(), Duration::ZERO).await.expect("gc");
    assert!(!report.deleted.is_empty());
    assert!(images(&t.store).await.is_empty());
}

#[tokio::test]
async fn dataset_reimport_changes_nothing() {
    let t = store();
    let files = [
        (Format::Parquet, fixtures().join("critic/pairwise/train-00000-of-00001.parquet")),
        (Format::LlavaJson, fixtures().join("llava/data.json")),
        (Format::Jsonl, fixtures().join("prompts.jsonl")),
    ];
    for (format, path) in &files {
        let (first, first_sink) = import(&t.store, *format, path).await;
        let before: Vec<_> = t.store.list(Kind::Image).try_collect().await.expect("list");
        let (second, second_sink) = import(&t.store, *format, path).await;
        let after: Vec<_> = t.store.list(Kind::Image).try_collect().await.expect("list");
        assert_eq!(first_sink.committed, second_sink.committed, "{format}: same rows");
        assert_eq!(first.file.digest, second.file.digest);
        assert_eq!(first.rejected, second.rejected);
        assert_eq!(second.images_stored, 0, "{format}: nothing new stored");
        assert_eq!(second.images_deduplicated, first.images_stored + first.images_deduplicated);
        let key = |m: &artifacts::ArtifactMeta| (m.digest, m.size, m.last_modified);
        let before: HashSet<_> = before.iter().map(key).collect();
        let after: HashSet<_> = after.iter().map(key).collect();
        assert_eq!(before, after, "{format}: the store is untouched (not even rewritten)");
    }
}

/// A sink whose second batch fails, the way a database write can.
#[derive(Default)]
struct FailingSink {
    batches: u32,
    committed: bool,
    rolled_back: bool,
}

impl RowSink for FailingSink {
    async fn begin(&mut self, _file: &SourceFile) -> Result<(), SinkError> {
        Ok(())
    }
    async fn accept(&mut self, _rows: Vec<Row>) -> Result<(), SinkError> {
        self.batches += 1;
        if self.batches == 2 { Err("connection reset".into()) } else { Ok(()) }
    }
    async fn commit(&mut self, _report: &ImportReport) -> Result<(), SinkError> {
        self.committed = true;
        Ok(())
    }
    async fn rollback(&mut self, _error: &ImportError) {
        self.rolled_back = true;
    }
}

#[tokio::test]
async fn dataset_sink_failure_rolls_back_and_is_retryable() {
    let t = store();
    let mut sink = FailingSink::default();
    let path = fixtures().join("critic/pointwise/train-00000-of-00001.parquet");
    let error = importer(&t.store, Format::Parquet).import(&path, &mut sink).await.expect_err("sink fails");
    assert!(
        matches!(&error, ImportError::Sink { source, .. } if source.to_string() == "connection reset"),
        "{error:?}"
    );
    assert!(error.is_retryable());
    assert!(sink.rolled_back && !sink.committed);
    assert_eq!(sink.batches, 2, "reading stops at the failure");
}

/// A sink that appends to the file being imported, the way another process might.
struct AppendingSink {
    path: std::path::PathBuf,
    inner: MemorySink,
}

impl RowSink for AppendingSink {
    async fn begin(&mut self, file: &SourceFile) -> Result<(), SinkError> {
        self.inner.begin(file).await
    }
    async fn accept(&mut self, rows: Vec<Row>) -> Result<(), SinkError> {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().append(true).open(&self.path)?;
        file.write_all(b"{\"id\": \"late\", \"question\": \"appended\"}\n")?;
        self.inner.accept(rows).await
    }
    async fn commit(&mut self, report: &ImportReport) -> Result<(), SinkError> {
        self.inner.commit(report).await
    }
    async fn rollback(&mut self, error: &ImportError) {
        self.inner.rollback(error).await
    }
}

#[tokio::test]
async fn dataset_file_changed_during_import_is_not_committed() {
    let t = store();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("prompts.jsonl");
    std::fs::copy(fixtures().join("prompts.jsonl"), &path).expect("copy");
    let mut options = importer(&t.store, Format::Jsonl).options().clone();
    options.image_root = Some(fixtures().to_path_buf());
    let mut sink = AppendingSink { path: path.clone(), inner: MemorySink::default() };
    let error = Importer::new(t.store.clone(), options).import(&path, &mut sink).await.expect_err("file changed");
    assert!(matches!(error, ImportError::FileChanged { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!((sink.inner.commits, sink.inner.rollbacks, sink.inner.committed.len()), (0, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dataset_import_into_an_s3_store() {
    let store = artifacts::testing::moto().new_store();
    let path = fixtures().join("critic/pairwise/train-00000-of-00001.parquet");
    let (report, sink) = import(&store, Format::Parquet, &path).await;
    assert_matches(&store, &report, &sink.committed, &expected("critic_pairwise")).await;
    assert_eq!(report.images_stored, 3);
    let (again, _) = import(&store, Format::Parquet, &path).await;
    assert_eq!(
        (again.images_stored, again.images_deduplicated),
        (0, report.images_stored + report.images_deduplicated)
    );
}

#[tokio::test]
async fn dataset_duplicate_ids_in_one_file_are_rejected_by_row() {
    let t = store();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("dups.jsonl");
    let lines = [
        r#"{"id": "a", "question": "first a", "image": "coco/a.png"}"#,
        r#"{"id": "b", "question": "first b"}"#,
        r#"{"id": "a", "question": "second a", "image": "coco/b.png"}"#,
        r#"{"id": "c", "question": "only c"}"#,
        r#"{"id": "b", "question": "second b"}"#,
        r#"{"id": "d", "conversations": []}"#,
        r#"{"id": "d", "question": "d again, well formed"}"#,
        r#"{"id": "a", "question": "third a"}"#,
    ];
    std::fs::write(&path, lines.join("\n") + "\n").expect("write");
    let mut options = importer(&t.store, Format::Jsonl).options().clone();
    options.image_root = Some(fixtures().join("llava/images"));
    assert!(options.batch_rows < lines.len(), "duplicates must cross batches");
    let mut sink = MemorySink::default();
    let report = Importer::new(t.store.clone(), options).import(&path, &mut sink).await.expect("import");

    let ids: Vec<&str> = sink.committed.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "c"], "the first row with each id is imported, the others are not");
    assert_eq!(sink.committed[0].conversations[0].value, "first a");
    let rejected: Vec<(u64, Option<&str>, String)> =
        report.rejected.iter().map(|r| (r.row_number, r.id.as_deref(), r.reason.to_string())).collect();
    assert_eq!(
        rejected,
        [
            (3, Some("a"), "duplicate id `a` (first at row 1)".to_owned()),
            (5, Some("b"), "duplicate id `b` (first at row 2)".to_owned()),
            (6, Some("d"), RejectReason::EmptyConversation.to_string()),
            (7, Some("d"), "duplicate id `d` (first at row 6)".to_owned()),
            (8, Some("a"), "duplicate id `a` (first at row 1)".to_owned()),
        ]
    );
    assert!(matches!(&report.rejected[0].reason, RejectReason::DuplicateId { id, first_row: 1 } if id == "a"));
    assert_eq!((report.rows_ok, report.rows_rejected), (3, 5));
    let stored = images(&t.store).await;
    assert_eq!(stored.len(), 1, "the duplicate row's image (b.png) is not stored: {stored:?}");
    assert_eq!(report.images_stored, 1);
}
