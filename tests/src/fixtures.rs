//! The model crate's tiny random Qwen2 checkpoints (`shared/model/fixtures/qwen2_fixture.py`), built with
//! `$CRITICLOOP_PYTHON` on first use and cached where the model and train tests cache them (the same key:
//! the script's bytes and the Python path), so all share one copy.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/model/fixtures/qwen2_fixture.py");

fn python() -> Result<PathBuf> {
    std::env::var_os("CRITICLOOP_PYTHON").map(PathBuf::from).context(
        "CRITICLOOP_PYTHON is not set: the tch tests build their tiny checkpoint with the project's Python \
         environment; run `source scripts/env` first",
    )
}

fn cache_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => Path::new(&t).join("..").join("fixtures"),
        None => std::env::temp_dir().join("criticloop-model-fixtures"),
    }
}

/// The folder of the fixture checkpoints (`qwen2`, `qwen2-tied`, ...), built if absent.
pub fn qwen2_fixtures() -> Result<PathBuf> {
    let script = std::fs::read(SCRIPT).with_context(|| format!("reading {SCRIPT}"))?;
    let py = python()?;
    let mut h = Sha256::new();
    h.update(&script);
    h.update(py.to_string_lossy().as_bytes());
    let key: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let dir = cache_root().join(format!("qwen2-{key}"));
    if dir.join("reference.json").is_file() {
        return Ok(dir);
    }
    let tmp = cache_root().join(format!("qwen2-{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new(&py)
        .arg(SCRIPT)
        .arg("make")
        .arg(&tmp)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .with_context(|| format!("running {SCRIPT} with {}", py.display()))?;
    if !out.status.success() {
        bail!("{SCRIPT} make failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
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
