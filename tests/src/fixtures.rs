//! The model crate's tiny random checkpoints (`shared/model/fixtures/qwen2_fixture.py`, and
//! `llava_generate_fixture.py` for LLaVA-OneVision), built with `$CRITICLOOP_PYTHON` on first use and cached
//! where the model and train tests cache them (the same key: the scripts' bytes and the Python path), so
//! all share one copy.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/model/fixtures/qwen2_fixture.py");
const LLAVA_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/model/fixtures/llava_generate_fixture.py");

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
    build(SCRIPT, &[], "qwen2")
}

/// The folder of the complete tiny LLaVA-OneVision checkpoint (`llava-ov`, with tokenizer, chat template
/// and processor) and its images (`image-N.png`), built if absent.
pub fn llava_fixtures() -> Result<PathBuf> {
    build(LLAVA_SCRIPT, &[SCRIPT], "llava-generate")
}

/// Runs `script make DIR` once per content of the script, the scripts it imports and the Python path.
fn build(script_path: &str, imports: &[&str], tag: &str) -> Result<PathBuf> {
    let script = std::fs::read(script_path).with_context(|| format!("reading {script_path}"))?;
    let py = python()?;
    let mut h = Sha256::new();
    h.update(&script);
    for import in imports {
        h.update(std::fs::read(import).with_context(|| format!("reading {import}"))?);
    }
    h.update(py.to_string_lossy().as_bytes());
    let key: String = h.finalize()[..8].iter().map(|b| format!("{b:02x}")).collect();
    let dir = cache_root().join(format!("{tag}-{key}"));
    if dir.join("reference.json").is_file() {
        return Ok(dir);
    }
    let tmp = cache_root().join(format!("{tag}-{key}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new(&py)
        .arg(script_path)
        .arg("make")
        .arg(&tmp)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .with_context(|| format!("running {script_path} with {}", py.display()))?;
    if !out.status.success() {
        bail!("{script_path} make failed:\n{}", String::from_utf8_lossy(&out.stderr));
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
