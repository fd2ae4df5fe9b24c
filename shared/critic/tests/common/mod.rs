//! The Python oracle for the metric tests: runs `$CRITICLOOP_PYTHON` (the scripts/setup environment,
//! which has numpy and scipy) on an inline script with the test data in a temp file, and reads JSON
//! back. A missing interpreter or scipy fails the test: the oracle is part of the test, not optional.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const SETUP_HINT: &str = "run `eval \"$(scripts/setup --print-env)\"` from the repository root (scripts/setup builds the \
Python environment with scipy and prints CRITICLOOP_PYTHON)";

/// The interpreter named by CRITICLOOP_PYTHON, checked to import numpy and scipy.
pub fn python() -> PathBuf {
    let Some(path) = std::env::var_os("CRITICLOOP_PYTHON") else {
        panic!("CRITICLOOP_PYTHON is not set; {SETUP_HINT}");
    };
    let path = PathBuf::from(path);
    assert!(path.exists(), "CRITICLOOP_PYTHON={} does not exist; {SETUP_HINT}", path.display());
    let probe = Command::new(&path)
        .args(["-c", "import numpy, scipy.stats, scipy.optimize"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run CRITICLOOP_PYTHON={}: {e}; {SETUP_HINT}", path.display()));
    assert!(
        probe.status.success(),
        "CRITICLOOP_PYTHON={} cannot import numpy/scipy ({}); {SETUP_HINT}",
        path.display(),
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    path
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Run `script` with the path of a temp file holding `input` as `sys.argv[1]`; parse its stdout as JSON.
pub fn run_python(tag: &str, script: &str, input: &Value) -> Value {
    let python = python();
    let file = std::env::temp_dir().join(format!(
        "criticloop-critic-{tag}-{}-{}.json",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&file, input.to_string()).expect("write the test data to a temp file");
    let output = Command::new(&python).arg("-c").arg(script).arg(&file).output();
    let _ = std::fs::remove_file(&file);
    let output = output.expect("run the Python oracle");
    assert!(output.status.success(), "the Python oracle failed:\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("the Python oracle prints JSON")
}

/// A JSON array of numbers as `Vec<f64>`.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("a JSON array").iter().map(|x| x.as_f64().expect("a number")).collect()
}
