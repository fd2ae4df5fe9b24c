#![allow(dead_code)]

use artifacts::{ArtifactStore, Digest, Kind, StoreConfig};
use futures::TryStreamExt;
use ingest::{Format, ImportOptions, ImportReport, Importer, MemorySink, Row};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Runs `make_fixtures.py` once per test binary and returns its output folder.
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let python = std::env::var("CRITICLOOP_PYTHON").unwrap_or_else(|_| {
            panic!(
                "CRITICLOOP_PYTHON is not set: `source scripts/env` first (fixtures are written by pyarrow + pillow)"
            )
        });
        let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        remove_stale_fixtures(&tmp);
        let dir = tmp.join(format!("ingest-fixtures-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/make_fixtures.py");
        let output = Command::new(&python).arg(&script).arg(&dir).output().expect("run make_fixtures.py");
        assert!(output.status.success(), "make_fixtures.py failed: {}", String::from_utf8_lossy(&output.stderr));
        dir
    })
}

/// Fixture folders of earlier runs (a static is never dropped, so each run leaves its own behind).
fn remove_stale_fixtures(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else { return };
    for entry in entries.flatten() {
        let stale = entry.file_name().to_string_lossy().starts_with("ingest-fixtures-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > std::time::Duration::from_secs(600)));
        if stale {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

pub fn expected(name: &str) -> Value {
    let text = std::fs::read_to_string(fixtures().join("expected.json")).expect("expected.json");
    let all: Value = serde_json::from_str(&text).expect("expected.json parses");
    all[name].clone()
}

pub struct TestStore {
    pub store: ArtifactStore,
    pub _dir: tempfile::TempDir,
}

pub fn store() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    TestStore { store: ArtifactStore::open(&StoreConfig::local(dir.path())).expect("store"), _dir: dir }
}

pub fn importer(store: &ArtifactStore, format: Format) -> Importer {
    let mut options = ImportOptions::new(format);
    options.limits.max_width = 4096;
    options.batch_rows = 3;
    options.parquet_batch_rows = 3;
    Importer::new(store.clone(), options)
}

pub async fn import(store: &ArtifactStore, format: Format, path: &Path) -> (ImportReport, MemorySink) {
    let mut sink = MemorySink::default();
    let report = importer(store, format).import(path, &mut sink).await.unwrap_or_else(|e| panic!("import {e}"));
    (report, sink)
}

pub async fn images(store: &ArtifactStore) -> HashSet<Digest> {
    store.list(Kind::Image).map_ok(|m| m.digest).try_collect().await.expect("list images")
}

/// Compares imported rows and rejections with what the fixture script says the file holds, and checks
/// that every referenced image is stored with exactly the source's bytes.
pub async fn assert_matches(store: &ArtifactStore, report: &ImportReport, rows: &[Row], expected: &Value) {
    let want_rows = expected["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), want_rows.len(), "row count; got ids {:?}", rows.iter().map(|r| &r.id).collect::<Vec<_>>());
    assert_eq!(report.rows_ok, rows.len() as u64);
    for (row, want) in rows.iter().zip(want_rows) {
        assert_eq!(row.row_number, want["row_number"].as_u64().expect("row_number"), "row {}", row.id);
        assert_eq!(row.id, want["id"].as_str().expect("id"));
        assert_eq!(row.source.as_deref(), want["source"].as_str(), "source of {}", row.id);
        let turns: Vec<Value> =
            row.conversations.iter().map(|t| serde_json::json!({"from": t.from, "value": t.value})).collect();
        assert_eq!(Value::Array(turns), want["conversations"], "conversations of {}", row.id);
        let want_extra = want.get("extra").cloned().unwrap_or(serde_json::json!({}));
        assert_eq!(Value::Object(row.extra.clone()), want_extra, "extra of {}", row.id);
        match (&row.image, &want["image"]) {
            (None, Value::Null) => {}
            (Some(image), want_image) => {
                assert_eq!(
                    image.digest.to_hex(),
                    want_image["sha256"].as_str().expect("sha256"),
                    "image of {}",
                    row.id
                );
                assert_eq!(u64::from(image.width), want_image["width"].as_u64().expect("width"));
                assert_eq!(u64::from(image.height), want_image["height"].as_u64().expect("height"));
                assert_eq!(image.format, want_image["format"].as_str().expect("format"));
                let stored = store.get(Kind::Image, &image.digest).await.expect("image stored");
                assert_eq!(Digest::of(&stored), image.digest);
            }
            (None, want_image) => panic!("row {} has no image, expected {want_image}", row.id),
        }
    }
    let want_rejected = expected["rejected"].as_array().expect("rejected");
    let got: Vec<Value> = report
        .rejected
        .iter()
        .map(|r| {
            let reason = serde_json::to_value(&r.reason).expect("reason serializes");
            serde_json::json!({"row_number": r.row_number, "id": r.id, "code": reason["code"]})
        })
        .collect();
    assert_eq!(Value::Array(got), Value::Array(want_rejected.clone()), "rejections: {:#?}", report.rejected);
    assert_eq!(report.rows_rejected, want_rejected.len() as u64);
}
