//! Fixtures for the parity tests: tiny random Qwen2 checkpoints and transformers' outputs for them, made by
//! `fixtures/qwen2_fixture.py` with `$CRITICLOOP_PYTHON` and cached by the script's hash.
//! Not every helper is used by every test module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use model::tch::{Kind, Tensor};
use sha2::{Digest, Sha256};

pub const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/qwen2_fixture.py");
pub const LLAVA_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llava_fixture.py");
pub const LLAVA_GENERATE_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/llava_generate_fixture.py");

pub fn python() -> PathBuf {
    match std::env::var_os("CRITICLOOP_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "CRITICLOOP_PYTHON is not set: the model parity tests need the project's Python environment \
             (torch, transformers) to build their reference checkpoints; run `source scripts/env` first"
        ),
    }
}

fn cache_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => Path::new(&t).join("..").join("fixtures"),
        None => std::env::temp_dir().join("criticloop-model-fixtures"),
    }
}

/// The fixture folder (built on first use, shared by every test of the process and later runs).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match build_fixtures(SCRIPT, &[], "qwen2") {
        Ok(p) => p,
        Err(e) => panic!("building the model fixtures failed: {e:#}"),
    })
}

/// The LLaVA-OneVision fixture folder (`fixtures/llava_fixture.py`).
pub fn llava_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match build_fixtures(LLAVA_SCRIPT, &[], "llava") {
        Ok(p) => p,
        Err(e) => panic!("building the LLaVA fixtures failed: {e:#}"),
    })
}

/// The complete LLaVA-OneVision checkpoint (tokenizer, processor) and transformers' processor outputs
/// and greedy generations for it (`fixtures/llava_generate_fixture.py`, which imports the tokenizer of
/// `qwen2_fixture.py`).
pub fn llava_generate_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match build_fixtures(LLAVA_GENERATE_SCRIPT, &[SCRIPT], "llava-generate") {
        Ok(p) => p,
        Err(e) => panic!("building the LLaVA generation fixtures failed: {e:#}"),
    })
}

/// Runs `script_path make DIR` once per content of the script, the scripts it imports (`imports`) and
/// the Python interpreter; later calls find the cached folder.
fn build_fixtures(script_path: &str, imports: &[&str], tag: &str) -> Result<PathBuf> {
    let script = std::fs::read(script_path).with_context(|| format!("reading {script_path}"))?;
    let py = python();
    let mut h = Sha256::new();
    h.update(&script);
    for import in imports {
        h.update(std::fs::read(import).with_context(|| format!("reading {import}"))?);
    }
    h.update(py.to_string_lossy().as_bytes());
    let key = hex::encode(&h.finalize()[..8]);
    let dir = cache_root().join(format!("{tag}-{key}"));
    if dir.join("reference.json").is_file() {
        return Ok(dir);
    }
    let tmp = cache_root().join(format!("{tag}-{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    run_script(script_path, &[Path::new("make"), &tmp])?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        // another test process finished first: use its copy
        Err(_) if dir.join("reference.json").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e).with_context(|| format!("moving {} to {}", tmp.display(), dir.display())),
    }
    Ok(dir)
}

/// Runs the Qwen2 fixture script with `args`, failing with its stderr.
pub fn run_python(args: &[&Path]) -> Result<()> {
    run_script(SCRIPT, args)
}

fn run_script(script: &str, args: &[&Path]) -> Result<()> {
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .context("running the fixture script with $CRITICLOOP_PYTHON")?;
    if !out.status.success() {
        bail!("fixture script {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

pub fn checkpoint(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// `reference.json`, parsed as a minijinja value tree so that objects keep their key order.
pub fn reference() -> &'static serde_json::Value {
    static REF: OnceLock<serde_json::Value> = OnceLock::new();
    REF.get_or_init(|| {
        let path = fixtures().join("reference.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

pub fn reference_text() -> Result<String> {
    Ok(std::fs::read_to_string(fixtures().join("reference.json"))?)
}

pub fn reference_tensors() -> Result<HashMap<String, Tensor>> {
    Ok(Tensor::read_safetensors(fixtures().join("reference.safetensors"))?.into_iter().collect())
}

pub fn tensor<'a>(map: &'a HashMap<String, Tensor>, name: &str) -> Result<&'a Tensor> {
    map.get(name).with_context(|| format!("reference tensor {name}"))
}

pub fn u32s(v: &serde_json::Value) -> Result<Vec<u32>> {
    v.as_array()
        .context("expected a list of token ids")?
        .iter()
        .map(|x| x.as_u64().and_then(|x| u32::try_from(x).ok()).context("token id"))
        .collect()
}

/// Max |a - b| over the positions where `mask` ([batch, len]) is 1; a, b are [batch, len, vocab].
pub fn max_abs_diff_masked(a: &Tensor, b: &Tensor, mask: &Tensor) -> Result<f64> {
    if a.size() != b.size() {
        bail!("shapes differ: {:?} vs {:?}", a.size(), b.size());
    }
    let keep = mask.ne(0).unsqueeze(-1).expand_as(a);
    let diff = (a.to_kind(Kind::Float) - b.to_kind(Kind::Float)).abs().masked_select(&keep);
    Ok(diff.max().double_value(&[]))
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<Self> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("criticloop-model-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
