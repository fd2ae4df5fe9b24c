//! The model crate's tiny random checkpoints (`shared/model/fixtures/*.py`), built with `$CRITICLOOP_PYTHON`
//! on first use and cached where the model tests cache them (same key: the scripts' bytes and the Python
//! path), and a tch backend over a fresh local artifact store.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use artifacts::{ArtifactStore, StoreConfig};
use backend::{BackendConfig, Backends, TchConfig};
use sha2::{Digest, Sha256};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../model/fixtures");

fn cache_root() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) => Path::new(&t).join("..").join("fixtures"),
        None => std::env::temp_dir().join("criticloop-model-fixtures"),
    }
}

fn build(script: &str, imports: &[&str], tag: &str) -> Result<PathBuf> {
    let py = PathBuf::from(std::env::var_os("CRITICLOOP_PYTHON").context(
        "CRITICLOOP_PYTHON is not set: these tests build their tiny checkpoints with the project's Python \
         environment; run `source scripts/env` first",
    )?);
    let script = format!("{FIXTURES}/{script}");
    let mut h = Sha256::new();
    h.update(std::fs::read(&script).with_context(|| format!("reading {script}"))?);
    for import in imports {
        h.update(std::fs::read(format!("{FIXTURES}/{import}")).with_context(|| format!("reading {import}"))?);
    }
    h.update(py.to_string_lossy().as_bytes());
    let dir = cache_root().join(format!("{tag}-{}", hex::encode(&h.finalize()[..8])));
    if dir.join("reference.json").is_file() {
        return Ok(dir);
    }
    let tmp = cache_root().join(format!("{tag}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let out = Command::new(&py)
        .arg(&script)
        .arg("make")
        .arg(&tmp)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .with_context(|| format!("running {script}"))?;
    if !out.status.success() {
        bail!("{script} make failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    if std::fs::rename(&tmp, &dir).is_err() && !dir.join("reference.json").is_file() {
        bail!("moving {} to {}", tmp.display(), dir.display());
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(dir)
}

/// The tiny Qwen2 checkpoint (with chat template).
pub fn qwen2() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| build("qwen2_fixture.py", &[], "qwen2").expect("the Qwen2 fixture").join("qwen2"))
}

/// The folder of the complete tiny LLaVA-OneVision checkpoint (`llava-ov`) and its images (`image-N.png`).
pub fn llava() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        build("llava_generate_fixture.py", &["qwen2_fixture.py"], "llava-generate").expect("the LLaVA fixture")
    })
}

/// A tch backend on the CPU over a fresh local artifact store, and that store.
pub struct Backend {
    pub backends: Backends,
    pub store: ArtifactStore,
    pub root: PathBuf,
    /// Drives the store from the test.
    pub rt: tokio::runtime::Runtime,
}

impl Backend {
    pub fn new(tag: &str, configure: impl FnOnce(&mut TchConfig)) -> Result<Self> {
        let root = std::env::temp_dir().join(format!("criticloop-backend-tch-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let store_config = StoreConfig::local(root.join("store"));
        let mut config = TchConfig { device: "cpu".into(), work_dir: root.join("work"), ..TchConfig::default() };
        configure(&mut config);
        let backends =
            criticloop_backend_tch::build(&BackendConfig::Tch(config), &store_config).map_err(anyhow::Error::msg)?;
        let store = ArtifactStore::open(&store_config)?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Backend { backends, store, root, rt })
    }

    /// Stores `bytes` as an image artifact; its `sha256:` reference.
    pub fn put_image(&self, bytes: Vec<u8>) -> Result<String> {
        let stored = self.rt.block_on(self.store.put_bytes(artifacts::Kind::Image, bytes))?;
        Ok(format!("sha256:{}", stored.digest))
    }

    /// Stores the checkpoint folder `dir`; its `sha256:` reference.
    pub fn put_checkpoint(&self, dir: &Path) -> Result<String> {
        let (stored, _) = self.rt.block_on(self.store.put_dir(artifacts::Kind::Checkpoint, dir))?;
        Ok(format!("sha256:{}", stored.digest))
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}
