#![allow(dead_code)]

use artifacts::{ArtifactStore, StoreConfig};

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
    let store = artifacts::testing::moto().new_store();
    assert!(store.description().starts_with("s3://"));
    TestStore { store, _dir: None }
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
