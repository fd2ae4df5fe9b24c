//! The configuration section: parsing, validation, and secrets that never print.

use artifacts::{ArtifactError, ArtifactStore, StoreConfig, StoreKind};
use serde_json::json;

fn parse(value: serde_json::Value) -> StoreConfig {
    serde_json::from_value(value).expect("config parses")
}

#[test]
fn artifact_config_defaults_to_a_local_directory() {
    let config = parse(json!({}));
    assert_eq!(config.kind, StoreKind::Local);
    assert_eq!(config.root, std::path::PathBuf::from(".criticloop/artifacts"));
    assert_eq!(config.dedup_refresh_secs, 3600);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ArtifactStore::open(&parse(json!({"kind": "local", "root": dir.path().join("a/b")}))).expect("open");
    assert!(dir.path().join("a/b").is_dir(), "the root is created");
    assert!(store.description().starts_with("local:"));
}

#[test]
fn artifact_config_s3_is_validated_and_secrets_do_not_print() {
    let config = parse(json!({
        "kind": "s3", "bucket": "b", "endpoint": "https://s3.example.com", "region": "eu-west-1",
        "access_key_id": "AKIDSECRET", "secret_access_key": "VERYSECRET"
    }));
    let printed = format!("{config:?}");
    assert!(!printed.contains("VERYSECRET") && !printed.contains("AKIDSECRET"), "{printed}");
    assert_eq!(ArtifactStore::open(&config).expect("open").description(), "s3://b");

    let refused = [
        json!({"kind": "s3"}),
        json!({"kind": "s3", "bucket": "b", "endpoint": "http://127.0.0.1:9000"}),
        json!({"kind": "s3", "bucket": "b", "access_key_id": "only-the-id"}),
    ];
    for value in refused {
        let config = parse(value.clone());
        assert!(matches!(ArtifactStore::open(&config), Err(ArtifactError::Config(_))), "{value} was accepted");
    }
    assert!(serde_json::from_value::<StoreConfig>(json!({"kind": "gcs"})).is_err());
    assert!(serde_json::from_value::<StoreConfig>(json!({"bucket_name": "typo"})).is_err(), "unknown keys are refused");
}

#[tokio::test]
async fn artifact_ping_reports_a_missing_bucket() {
    let moto = artifacts::testing::moto();
    let config = parse(json!({
        "kind": "s3", "bucket": "no-such-bucket", "endpoint": moto.endpoint, "allow_http": true,
        "access_key_id": "testing", "secret_access_key": "testing"
    }));
    let store = ArtifactStore::open(&config).expect("open does not connect");
    let error = store.ping().await.expect_err("missing bucket");
    assert!(matches!(error, ArtifactError::Backend { .. }), "{error:?}");
}

#[tokio::test]
async fn artifact_gc_accepts_any_grace_period() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = ArtifactStore::open(&StoreConfig::local(dir.path())).expect("open");
    store.put_bytes(artifacts::Kind::Image, b"x".to_vec()).await.expect("put");
    let report = store.gc(&Default::default(), std::time::Duration::MAX).await.expect("gc");
    assert_eq!((report.scanned, report.spared_young), (1, 1));
}
