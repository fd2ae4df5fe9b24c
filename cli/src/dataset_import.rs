//! `criticloop dataset import PATH --format llava-json|jsonl|parquet [--images DIR] [--name N]`.
//!
//! The file is streamed to the API (`POST /v1/datasets/import`), with the bytes sent shown as progress; the
//! server checks every image once and answers with the rows imported and the rows rejected (by number).
//! The server cannot read this machine's image folder, so for `llava-json` the CLI first rewrites the
//! records as JSONL (one record per line, same order, so row numbers stay those of the array) with each
//! image file inlined as a `data:` URI. Inlining rather than uploading images first keeps a single
//! request that commits everything or nothing, and lets the server check each image exactly once.

use crate::Client;
use base64::Engine as _;
use serde_json::Value;
use std::io::{BufWriter, Write};
use std::path::{Component, Path, PathBuf};

pub struct ImportArgs {
    pub path: PathBuf,
    pub format: String,
    pub images: Option<PathBuf>,
    pub name: Option<String>,
    pub dataset: Option<String>,
    pub kind: Option<String>,
}

/// `prompt`, or the critic kind the LLaVA-Critic-113k layout implies (`pairwise/…`, `pointwise/…`).
fn infer_kind(path: &Path) -> &'static str {
    let mut kind = "prompt";
    for component in path.parent().unwrap_or(Path::new("")).components() {
        match component.as_os_str().to_str() {
            Some("pairwise") => kind = "critic_pairwise",
            Some("pointwise") => kind = "critic_pointwise",
            _ => {}
        }
    }
    kind
}

pub async fn run(args: ImportArgs, client: &Client) -> anyhow::Result<()> {
    let format = args.format.as_str();
    anyhow::ensure!(
        matches!(format, "llava-json" | "jsonl" | "parquet"),
        "unknown --format `{format}`: use llava-json, jsonl or parquet"
    );
    anyhow::ensure!(args.path.is_file(), "{} is not a file", args.path.display());
    anyhow::ensure!(
        args.images.is_none() || format == "llava-json",
        "--images is for llava-json files; jsonl images are inline data: URIs or sha256: references"
    );
    let kind = args.kind.clone().unwrap_or_else(|| infer_kind(&args.path).to_owned());
    let name = args.name.clone().unwrap_or_else(|| {
        args.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "dataset".into())
    });
    // llava-json: rewritten to JSONL with inline images in a temporary file, removed on drop
    let (upload, sent_format, _temp) = if format == "llava-json" {
        let images = args.images.clone().unwrap_or_else(|| args.path.parent().unwrap_or(Path::new(".")).to_path_buf());
        let temp = inline_llava(&args.path, &images)?;
        (temp.path().to_path_buf(), "jsonl", Some(temp))
    } else {
        (args.path.clone(), format, None)
    };
    let mut query = format!("format={sent_format}&kind={kind}&name={}", encode(&name));
    if let Some(id) = &args.dataset {
        query.push_str(&format!("&dataset_id={}", encode(id)));
    }
    let report = client.post_file_with_progress(&format!("/v1/datasets/import?{query}"), &upload).await?;
    print_report(&report);
    Ok(())
}

fn print_report(report: &Value) {
    let n = |key: &str| report[key].as_u64().unwrap_or(0);
    eprintln!(
        "{} rows imported ({} new), {} rejected; images: {} stored, {} already stored{}",
        n("rows_ok"),
        n("rows_new"),
        n("rows_rejected"),
        n("images_stored"),
        n("images_deduplicated"),
        if report["already_imported"].as_bool() == Some(true) { "; this file was imported before" } else { "" }
    );
    for rejected in report["rejected"].as_array().into_iter().flatten() {
        let id = rejected["id"].as_str().map(|id| format!(" (id {id})")).unwrap_or_default();
        eprintln!("  rejected row {}{id}: {}", rejected["row_number"], rejected["message"].as_str().unwrap_or("?"));
    }
    let listed = report["rejected"].as_array().map_or(0, Vec::len) as u64;
    if n("rows_rejected") > listed {
        eprintln!("  ... and {} more rejected rows", n("rows_rejected") - listed);
    }
    println!("{}", report["dataset_id"].as_str().unwrap_or_default());
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Rewrites a LLaVA JSON array as JSONL with image files inlined. A missing image file is left as its path:
/// the server rejects that row (and only that row), and the CLI says which file was missing.
fn inline_llava(path: &Path, images: &Path) -> anyhow::Result<tempfile::NamedTempFile> {
    let file = std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let records: Vec<Value> = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| {
        anyhow::anyhow!("{} is not a LLaVA JSON array of records: {e} (nothing was sent)", path.display())
    })?;
    let temp = tempfile::Builder::new().prefix("criticloop-llava-").suffix(".jsonl").tempfile()?;
    let mut out = BufWriter::new(temp.reopen()?);
    let (mut inlined, mut missing) = (0usize, 0usize);
    for (index, mut record) in records.into_iter().enumerate() {
        if let Some(Value::String(reference)) = record.get("image")
            && !reference.starts_with("data:")
            && !reference.starts_with("sha256:")
            && Path::new(reference).components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        {
            let file = images.join(reference);
            match std::fs::read(&file) {
                Ok(bytes) => {
                    let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("octet-stream").to_lowercase();
                    let uri =
                        format!("data:image/{ext};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes));
                    record["image"] = Value::String(uri);
                    inlined += 1;
                }
                Err(e) => {
                    missing += 1;
                    eprintln!(
                        "row {}: image {} cannot be read ({e}); the server will reject the row",
                        index + 1,
                        file.display()
                    );
                }
            }
        }
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!(
        "{inlined} images inlined from {}{}",
        images.display(),
        if missing > 0 { format!(", {missing} unreadable") } else { String::new() }
    );
    Ok(temp)
}
