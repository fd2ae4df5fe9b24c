//! Peak memory stays bounded while importing files many times larger than the bound. Each import runs in
//! a child process (this test binary, re-run with an environment variable) that reports its peak resident
//! set (VmHWM); the parent generates the file and checks the figures.

use artifacts::{ArtifactStore, StoreConfig};
use base64::Engine as _;
use ingest::{Format, ImportOptions, Importer, MemorySink};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const CHILD_ENV: &str = "INGEST_MEMORY_CHILD";
const PEAK_BOUND_KB: u64 = 48 * 1024;

fn proc_status_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field).map(|rest| rest.trim().trim_end_matches("kB").trim().to_owned()))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("{field} missing in /proc/self/status"))
}

/// A small PNG per variant, embedded as a data: URI every 500 rows.
fn png(variant: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(24, 16, |x, y| image::Rgb([x as u8 * 10, y as u8 * 15, variant]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image.write_to(&mut bytes, image::ImageFormat::Png).expect("encode png");
    bytes.into_inner()
}

fn write_large_jsonl(path: &Path, bytes: u64) -> u64 {
    let uris: Vec<String> = (0..4u8)
        .map(|v| format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png(v))))
        .collect();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("create"));
    let filler: String = (0..4000).map(|i| char::from(b'a' + (i * 7 % 26) as u8)).collect();
    let mut rows = 0u64;
    let mut written = 0u64;
    while written < bytes {
        let image = if rows.is_multiple_of(500) {
            format!(",\"image\":\"{}\"", uris[(rows / 500 % 4) as usize])
        } else {
            String::new()
        };
        let line = format!(
            "{{\"id\":\"row-{rows}\",\"question\":\"Question {rows}: {}\"{image},\"answer\":\"{}\"}}\n",
            &filler[(rows % 1000) as usize..],
            &filler[..(rows % 3000) as usize]
        );
        out.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
        rows += 1;
    }
    out.flush().expect("flush");
    rows
}

fn write_large_parquet(path: &Path, megabytes: u64, rows_per_group: u64) -> u64 {
    let python = std::env::var("CRITICLOOP_PYTHON").expect("CRITICLOOP_PYTHON is not set: `source scripts/env` first");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/make_large_parquet.py");
    let output = Command::new(python)
        .arg(script)
        .arg(path)
        .args([megabytes.to_string(), rows_per_group.to_string()])
        .output()
        .expect("run make_large_parquet.py");
    assert!(output.status.success(), "make_large_parquet.py: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().parse().expect("row count")
}

fn child(format: Format, path: &Path) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ArtifactStore::open(&StoreConfig::local(dir.path())).expect("store");
    let importer = Importer::new(store, ImportOptions::new(format));
    let before_kb = proc_status_kb("VmRSS:");
    let started = Instant::now();
    let mut sink = MemorySink::counting();
    let report = runtime.block_on(importer.import(path, &mut sink)).expect("import");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "CHILD rows_ok={} rejected={} images_stored={} dedup={} seconds={seconds:.2} rss_before_kb={before_kb} {}",
        report.rows_ok,
        report.rows_rejected,
        report.images_stored,
        report.images_deduplicated,
        format_args!("vmhwm_kb={}", proc_status_kb("VmHWM:"))
    );
}

fn field(line: &str, name: &str) -> f64 {
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(&format!("{name}=")).and_then(|v| v.parse().ok()))
        .unwrap_or_else(|| panic!("{name} missing in {line:?}"))
}

/// In the child: runs the import and returns true. In the parent: false.
fn run_child_if_asked() -> bool {
    let Ok(request) = std::env::var(CHILD_ENV) else { return false };
    let (format, path) = request.split_once(':').expect("format:path");
    child(format.parse().expect("format"), Path::new(path));
    true
}

/// Imports `path` in a child process and checks its row count and peak memory.
fn measure(test_name: &str, format: Format, path: &Path, rows: u64) {
    let size = std::fs::metadata(path).expect("size").len();
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([test_name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{format}:{}", path.display()))
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child failed: {stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    let line = stdout.lines().find_map(|l| l.find("CHILD ").map(|at| &l[at..])).expect("child report");
    println!("{format}: file {size} bytes, {rows} rows; {line}");
    assert_eq!(field(line, "rows_ok") as u64, rows);
    assert_eq!(field(line, "images_stored") as u64, 4);
    let peak_kb = field(line, "vmhwm_kb") as u64;
    assert!(size / 1024 > 4 * PEAK_BOUND_KB, "the file is much larger than the bound");
    assert!(
        peak_kb < PEAK_BOUND_KB,
        "peak RSS {peak_kb} kB over the bound {PEAK_BOUND_KB} kB while importing a {} MB {format} file",
        size / (1024 * 1024)
    );
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ingest-memory-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

#[test]
fn dataset_peak_memory_stays_bounded_on_a_large_jsonl() {
    if run_child_if_asked() {
        return;
    }
    let dir = scratch("jsonl");
    let path = dir.join("large.jsonl");
    let rows = write_large_jsonl(&path, 256 * 1024 * 1024);
    measure("dataset_peak_memory_stays_bounded_on_a_large_jsonl", Format::Jsonl, &path, rows);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dataset_peak_memory_stays_bounded_on_a_large_parquet_with_big_row_groups() {
    if run_child_if_asked() {
        return;
    }
    let dir = scratch("parquet");
    let path = dir.join("pairwise").join("train-00000-of-00001.parquet");
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    // 20,000 rows per row group: about 115 MB per row group, more than twice the memory bound.
    let rows = write_large_parquet(&path, 256, 20_000);
    measure("dataset_peak_memory_stays_bounded_on_a_large_parquet_with_big_row_groups", Format::Parquet, &path, rows);
    let _ = std::fs::remove_dir_all(&dir);
}
