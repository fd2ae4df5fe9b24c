//! Fixtures: the model crate's tiny random Qwen2 checkpoints (made by its `qwen2_fixture.py`, cached where
//! the model tests cache them) and TRL DPOTrainer runs on them (made by `fixtures/dpo_fixture.py`, cached by
//! the hash of both scripts and the run specification). Not every helper is used by every test module.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

pub const DPO_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/dpo_fixture.py");

pub fn python() -> PathBuf {
    match std::env::var_os("CRITICLOOP_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "CRITICLOOP_PYTHON is not set: the DPO parity tests need the project's Python environment (torch, \
             transformers, trl); run `source scripts/env` first"
        ),
    }
}

fn hash_of(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    hex::encode(&h.finalize()[..8])
}

/// Runs `script args` with the project's Python, failing with its stderr.
pub fn run_python(script: &str, args: &[&Path]) -> Result<()> {
    let out = Command::new(python())
        .arg(script)
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_DATASETS_OFFLINE", "1")
        .env("TQDM_DISABLE", "1")
        .output()
        .with_context(|| format!("running {script} with $CRITICLOOP_PYTHON"))?;
    if !out.status.success() {
        bail!("{script} {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Builds `dir` with `make(tmp)` unless it exists, through a temporary folder renamed into place.
fn cached(dir: PathBuf, done: &str, make: impl FnOnce(&Path) -> Result<()>) -> Result<PathBuf> {
    if dir.join(done).exists() {
        return Ok(dir);
    }
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp)?;
    make(&tmp)?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => {}
        Err(_) if dir.join(done).exists() => {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        Err(e) => return Err(e).with_context(|| format!("moving {} to {}", tmp.display(), dir.display())),
    }
    Ok(dir)
}

/// The model crate's fixture folder (`model::fixtures`, one copy shared with its tests).
pub fn model_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        model::fixtures::build("qwen2_fixture.py", &[], "qwen2")
            .unwrap_or_else(|e| panic!("building the model fixtures failed: {e}"))
    })
}

/// The model crate's complete tiny LLaVA-OneVision (`llava-ov/`, with its processor) and its images
/// (`image-N.png`), shared with the model tests' cache.
pub fn llava_fixtures() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        model::fixtures::build("llava_generate_fixture.py", &["qwen2_fixture.py"], "llava-generate")
            .unwrap_or_else(|e| panic!("building the LLaVA-OneVision fixtures failed: {e}"))
    })
}

/// A fixture checkpoint by name: `llava-ov`, or one of the Qwen2 fixtures (`qwen2`, `qwen2-tied`).
pub fn checkpoint(name: &str) -> PathBuf {
    if name == "llava-ov" { llava_fixtures().join(name) } else { model_fixtures().join(name) }
}

/// Where the pairs' image file names point: the LLaVA fixtures' folder.
pub fn images_dir() -> PathBuf {
    llava_fixtures().to_path_buf()
}

/// Runs TRL once for a whole specification (`{"runs": {name: {"checkpoint", "pairs_jsonl", "config"}}}`),
/// cached by its hash; returns the output folder, which holds one folder per run.
pub fn trl_runs(tag: &str, spec: &serde_json::Value) -> Result<PathBuf> {
    let script = std::fs::read(DPO_SCRIPT).with_context(|| format!("reading {DPO_SCRIPT}"))?;
    let spec_text = serde_json::to_string(spec)?;
    let key = hash_of(&[&script, spec_text.as_bytes(), python().to_string_lossy().as_bytes()]);
    cached(model::fixtures::cache_root().join(format!("trl-{tag}-{key}")), "spec.json", |tmp| {
        let spec_path = tmp.join("spec.json.in");
        std::fs::write(&spec_path, &spec_text)?;
        run_python(DPO_SCRIPT, &[Path::new("trl"), &spec_path, tmp])?;
        std::fs::rename(&spec_path, tmp.join("spec.json"))?;
        Ok(())
    })
}

/// A fresh, empty directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Result<Self> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("criticloop-train-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
