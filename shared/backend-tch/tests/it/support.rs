//! The model crate's tiny random checkpoints (`model::fixtures`, shared with the model tests), and a tch
//! backend over a fresh local artifact store.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Result;
use artifacts::{ArtifactStore, StoreConfig};
use backend::{BackendConfig, Backends, TchConfig};

/// The tiny Qwen2 checkpoint (with chat template).
pub fn qwen2() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        model::fixtures::build("qwen2_fixture.py", &[], "qwen2").expect("the Qwen2 fixture").join("qwen2")
    })
}

/// The folder of the complete tiny LLaVA-OneVision checkpoint (`llava-ov`) and its images (`image-N.png`).
pub fn llava() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        model::fixtures::build("llava_generate_fixture.py", &["qwen2_fixture.py"], "llava-generate")
            .expect("the LLaVA fixture")
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
