#![allow(dead_code)]

pub mod moto;

use artifacts::{ArtifactStore, StoreConfig, StoreKind};
use std::sync::atomic::{AtomicU32, Ordering};

/// A store and what keeps it alive (a temporary directory for the local backend).
pub struct TestStore {
    pub store: ArtifactStore,
    pub _dir: Option<tempfile::TempDir>,
}

pub fn local() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ArtifactStore::open(&StoreConfig::local(dir.path().join("artifacts"))).expect("local store");
    TestStore { store, _dir: Some(dir) }
}

pub fn s3() -> TestStore {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let moto = moto::moto();
    let bucket = format!("artifact-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    moto.create_bucket(&bucket);
    let config: StoreConfig = serde_json::from_value(serde_json::json!({
        "kind": "s3",
        "bucket": bucket,
        "endpoint": moto.endpoint,
        "region": "us-east-1",
        "access_key_id": "testing",
        "secret_access_key": "testing",
        "allow_http": true,
        "prefix": "criticloop",
    }))
    .expect("s3 config");
    assert_eq!(config.kind, StoreKind::S3);
    TestStore { store: ArtifactStore::open(&config).expect("s3 store"), _dir: None }
}

/// Deterministic pseudo-random bytes (xorshift), so large contents differ and do not compress.
pub fn content(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
