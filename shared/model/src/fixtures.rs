//! The tiny random reference checkpoints the tests of every crate build: the scripts in
//! `shared/model/fixtures/` run once with the project's Python (`$CRITICLOOP_PYTHON`: torch,
//! transformers) and their output is cached by the scripts' bytes and the interpreter's path, so the
//! model, train, backend and end-to-end tests share one copy. Test support, not used at run time.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The folder of the fixture scripts.
pub const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");

/// The project's Python (`$CRITICLOOP_PYTHON`).
pub fn python() -> Result<PathBuf, String> {
    std::env::var_os("CRITICLOOP_PYTHON").map(PathBuf::from).ok_or_else(|| {
        "CRITICLOOP_PYTHON is not set: the tests build their tiny reference checkpoints with the project's \
         Python environment (torch, transformers); run `source scripts/env` first"
            .to_string()
    })
}

/// Where built fixtures are cached: beside the cargo target directory, else in the temporary folder.
pub fn cache_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => Path::new(&t).join("..").join("fixtures"),
        None => std::env::temp_dir().join("criticloop-model-fixtures"),
    }
}

/// Runs the fixture script `script` (a file name in `SCRIPTS`) with `args`; its stdout, or its stderr as
/// the error.
pub fn run<S: AsRef<OsStr>>(script: &str, args: &[S]) -> Result<String, String> {
    let path = Path::new(SCRIPTS).join(script);
    let py = python()?;
    let out = Command::new(&py)
        .arg(&path)
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .map_err(|e| format!("running {} with {}: {e}", path.display(), py.display()))?;
    if !out.status.success() {
        return Err(format!("{script} failed:\n{}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The folder `script make DIR` writes (`reference.json` marks it complete), built on first use and then
/// cached per content of the script, of the scripts it imports (`imports`, file names in `SCRIPTS`) and
/// the interpreter's path. Concurrent test processes may both build; the first rename wins.
pub fn build(script: &str, imports: &[&str], tag: &str) -> Result<PathBuf, String> {
    let py = python()?;
    let mut h = Sha256::new();
    for name in std::iter::once(&script).chain(imports) {
        let path = Path::new(SCRIPTS).join(name);
        h.update(std::fs::read(&path).map_err(|e| format!("reading {}: {e}", path.display()))?);
    }
    h.update(py.to_string_lossy().as_bytes());
    let dir = cache_root().join(format!("{tag}-{}", hex::encode(&h.finalize()[..8])));
    if dir.join("reference.json").is_file() {
        return Ok(dir);
    }
    let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    run(script, &[OsStr::new("make"), tmp.as_os_str()])?;
    match std::fs::rename(&tmp, &dir) {
        Ok(()) => Ok(dir),
        // another test process finished first: use its copy
        Err(_) if dir.join("reference.json").is_file() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok(dir)
        }
        Err(e) => Err(format!("moving {} to {}: {e}", tmp.display(), dir.display())),
    }
}
