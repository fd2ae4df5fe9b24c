//! Fixtures for the parity tests: tiny random Qwen2 and LLaVA-OneVision checkpoints and transformers'
//! outputs for them, made by the scripts in `fixtures/` through `model::fixtures` (cached by content).
//! Not every helper is used by every test module.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use model::tch::{Kind, Tensor};

/// The fixture scripts (file names in `model::fixtures::SCRIPTS`).
pub const SCRIPT: &str = "qwen2_fixture.py";
pub const LLAVA_SCRIPT: &str = "llava_fixture.py";
pub const LLAVA_GENERATE_SCRIPT: &str = "llava_generate_fixture.py";

/// The project's Python (panics with what to do when `$CRITICLOOP_PYTHON` is unset).
pub fn python() -> PathBuf {
    model::fixtures::python().unwrap_or_else(|e| panic!("{e}"))
}

fn built(script: &str, imports: &[&str], tag: &str) -> PathBuf {
    model::fixtures::build(script, imports, tag).unwrap_or_else(|e| panic!("building the {tag} fixtures failed: {e}"))
}

/// The fixture folder (built on first use, shared by every test of the process and later runs).
pub fn fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| built(SCRIPT, &[], "qwen2"))
}

/// The LLaVA-OneVision fixture folder (`fixtures/llava_fixture.py`).
pub fn llava_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| built(LLAVA_SCRIPT, &[], "llava"))
}

/// The complete LLaVA-OneVision checkpoint (tokenizer, processor) and transformers' processor outputs
/// and greedy generations for it (`fixtures/llava_generate_fixture.py`, which imports the tokenizer of
/// `qwen2_fixture.py`).
pub fn llava_generate_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| built(LLAVA_GENERATE_SCRIPT, &[SCRIPT], "llava-generate"))
}

/// Runs the Qwen2 fixture script with `args`, failing with its stderr.
pub fn run_python(args: &[&Path]) -> Result<()> {
    model::fixtures::run(SCRIPT, args).map(drop).map_err(anyhow::Error::msg)
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
