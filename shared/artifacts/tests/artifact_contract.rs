//! The contract every backend keeps, run against the local directory store and moto's S3 server.

mod support;

use artifacts::{ArtifactError, ArtifactStore, Digest, Kind};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use std::collections::HashSet;
use std::time::Duration;
use support::{TestStore, content};

const HOUR: Duration = Duration::from_secs(3600);

async fn listed(store: &ArtifactStore, kind: Kind) -> HashSet<Digest> {
    store.list(kind).map_ok(|m| m.digest).try_collect().await.expect("list")
}

async fn put_get_roundtrip_and_dedup(t: TestStore) {
    let store = &t.store;
    store.ping().await.expect("the backend answers");
    let bytes = content(1, 1000);
    let first = store.put_bytes(Kind::Image, bytes.clone()).await.expect("put");
    assert_eq!(first.digest, Digest::of(&bytes));
    assert!(first.newly_stored);
    assert_eq!(first.size, 1000);
    let again = store.put_bytes(Kind::Image, bytes.clone()).await.expect("put again");
    assert_eq!(again.digest, first.digest);
    assert!(!again.newly_stored, "identical content is deduplicated");
    assert!(store.exists(Kind::Image, &first.digest).await.expect("exists"));
    assert!(!store.exists(Kind::PairSet, &first.digest).await.expect("exists"), "kinds are separate");
    assert_eq!(store.get(Kind::Image, &first.digest).await.expect("get"), bytes);
    assert_eq!(listed(store, Kind::Image).await, HashSet::from([first.digest]));
    let meta = store.head(Kind::Image, &first.digest).await.expect("head").expect("present");
    assert_eq!(meta.size, 1000);
}

async fn dedup_rewrites_copies_older_than_the_refresh_window(t: TestStore) {
    let bytes = content(6, 2000);
    let first = t.store.put_bytes(Kind::Image, bytes.clone()).await.expect("put");
    let before = t.store.head(Kind::Image, &first.digest).await.expect("head").expect("present");
    let eager = t.store.clone().with_dedup_refresh(Duration::ZERO);
    let again = eager.put_bytes(Kind::Image, bytes).await.expect("put again");
    assert!(again.newly_stored, "a copy older than the refresh window is rewritten, renewing its age");
    let after = t.store.head(Kind::Image, &first.digest).await.expect("head").expect("present");
    assert!(after.last_modified >= before.last_modified);
    assert_eq!(t.store.get(Kind::Image, &first.digest).await.expect("get").len(), 2000);
}

async fn large_files_stream_in_parts_and_download_verified(t: TestStore) {
    let store = &t.store;
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = content(2, 20 * 1024 * 1024 + 123);
    let source = dir.path().join("big.bin");
    std::fs::write(&source, &bytes).expect("write source");
    let stored = store.put_file(Kind::Blob, &source).await.expect("put_file");
    assert_eq!(stored.digest, Digest::of(&bytes));
    assert_eq!(stored.size, bytes.len() as u64);
    assert!(stored.newly_stored);
    assert!(!store.put_file(Kind::Blob, &source).await.expect("put_file again").newly_stored);

    let streamed =
        store.put_reader(Kind::Blob, std::io::Cursor::new(bytes.clone()), dir.path()).await.expect("put_reader");
    assert_eq!(streamed.digest, stored.digest);
    assert!(!streamed.newly_stored);

    let chunks: Vec<bytes::Bytes> =
        store.get_stream(Kind::Blob, &stored.digest).await.expect("get_stream").try_collect().await.expect("chunks");
    assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), bytes.len());
    let target = dir.path().join("out/copy.bin");
    assert_eq!(store.download(Kind::Blob, &stored.digest, &target).await.expect("download"), bytes.len() as u64);
    assert_eq!(std::fs::read(&target).expect("read copy"), bytes);
    let leftovers: Vec<_> =
        std::fs::read_dir(dir.path()).expect("list").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(leftovers.len(), 2, "no spool or partial files left: {leftovers:?}");
}

async fn delete_and_missing_artifacts(t: TestStore) {
    let store = &t.store;
    let stored = store.put_bytes(Kind::PairSet, b"pairs".to_vec()).await.expect("put");
    store.delete(Kind::PairSet, &stored.digest).await.expect("delete");
    assert!(!store.exists(Kind::PairSet, &stored.digest).await.expect("exists"));
    store.delete(Kind::PairSet, &stored.digest).await.expect("deleting twice is fine");
    match store.get(Kind::PairSet, &stored.digest).await {
        Err(ArtifactError::NotFound { kind: Kind::PairSet, digest }) => assert_eq!(digest, stored.digest),
        other => panic!("expected NotFound, got {other:?}"),
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let target = dir.path().join("missing.bin");
    assert!(store.download(Kind::PairSet, &stored.digest, &target).await.is_err());
    assert!(!target.exists(), "a failed download leaves no file");
}

async fn damaged_objects_are_detected_and_foreign_objects_ignored(t: TestStore) {
    let store = &t.store;
    let stored = store.put_bytes(Kind::Image, content(3, 5000)).await.expect("put");
    let key = store.key(Kind::Image, &stored.digest);
    store.backend().put(&key, b"tampered".to_vec().into()).await.expect("overwrite raw object");
    match store.get(Kind::Image, &stored.digest).await {
        Err(ArtifactError::Corrupt { actual, .. }) => assert_eq!(actual, Digest::of(b"tampered")),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let dir = tempfile::tempdir().expect("temp dir");
    assert!(matches!(
        store.download(Kind::Image, &stored.digest, &dir.path().join("x")).await,
        Err(ArtifactError::Corrupt { .. })
    ));
    assert!(!dir.path().join("x").exists());

    let key_text = key.to_string();
    let shard = key_text.rsplit_once('/').map(|(shard, _)| shard).unwrap_or_default();
    let foreign = object_store::path::Path::from(format!("{shard}/not-a-digest"));
    store.backend().put(&foreign, b"foreign".to_vec().into()).await.expect("put foreign");
    assert_eq!(listed(store, Kind::Image).await, HashSet::from([stored.digest]));
    store.gc(&HashSet::new(), Duration::ZERO).await.expect("gc");
    store.backend().head(&foreign).await.expect("gc leaves foreign objects alone");
}

async fn concurrent_writers_of_the_same_content_never_expose_a_partial_object(t: TestStore) {
    let store = t.store.clone();
    let dir = tempfile::tempdir().expect("temp dir");
    let bytes = content(4, 12 * 1024 * 1024);
    let digest = Digest::of(&bytes);
    let path = dir.path().join("same.bin");
    std::fs::write(&path, &bytes).expect("write");
    let writers_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let store = store.clone();
        let writers_done = writers_done.clone();
        tokio::spawn(async move {
            let mut verified_reads = 0u32;
            loop {
                let done = writers_done.load(std::sync::atomic::Ordering::Acquire);
                match store.get(Kind::Checkpoint, &digest).await {
                    Ok(read) => {
                        assert_eq!(read.len(), 12 * 1024 * 1024);
                        verified_reads += 1;
                    }
                    Err(ArtifactError::NotFound { .. }) => {}
                    Err(other) => panic!("a reader saw a damaged object: {other}"),
                }
                if done {
                    return verified_reads;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let writers: Vec<_> = (0..6)
        .map(|i| {
            let store = store.clone();
            let path = path.clone();
            let bytes = bytes.clone();
            tokio::spawn(async move {
                if i % 2 == 0 {
                    store.put_file(Kind::Checkpoint, &path).await
                } else {
                    store.put_bytes(Kind::Checkpoint, bytes).await
                }
            })
        })
        .collect();
    for writer in writers {
        let stored = writer.await.expect("join").expect("concurrent put");
        assert_eq!(stored.digest, digest);
    }
    writers_done.store(true, std::sync::atomic::Ordering::Release);
    assert_eq!(store.get(Kind::Checkpoint, &digest).await.expect("final get"), bytes);
    let verified_reads = reader.await.expect("reader");
    assert!(verified_reads > 0, "the reader saw the object at least once");
    assert_eq!(listed(&store, Kind::Checkpoint).await, HashSet::from([digest]));
}

async fn directories_round_trip_through_manifests(t: TestStore) {
    let store = &t.store;
    let dir = tempfile::tempdir().expect("temp dir");
    let checkpoint = dir.path().join("ckpt");
    std::fs::create_dir_all(checkpoint.join("sub")).expect("mkdir");
    std::fs::write(checkpoint.join("config.json"), b"{\"hidden_size\": 8}").expect("write");
    std::fs::write(checkpoint.join("sub/model.safetensors"), content(5, 3 * 1024 * 1024)).expect("write");
    std::fs::write(checkpoint.join("sub/copy.json"), b"{\"hidden_size\": 8}").expect("write");
    let (stored, manifest) = store.put_dir(Kind::Checkpoint, &checkpoint).await.expect("put_dir");
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["config.json", "sub/copy.json", "sub/model.safetensors"]);
    assert_eq!(listed(store, Kind::Blob).await.len(), 2, "identical files are one blob");
    let (again, _) = store.put_dir(Kind::Checkpoint, &checkpoint).await.expect("put_dir again");
    assert_eq!(again.digest, stored.digest, "the same directory has the same manifest digest");
    assert!(!again.newly_stored);

    let target = dir.path().join("restored");
    store.download_dir(Kind::Checkpoint, &stored.digest, &target).await.expect("download_dir");
    for path in paths {
        assert_eq!(
            std::fs::read(target.join(path)).expect("restored"),
            std::fs::read(checkpoint.join(path)).expect("orig")
        );
    }
    assert!(store.download_dir(Kind::Checkpoint, &stored.digest, &target).await.is_err(), "never overwrites");
}

async fn gc_removes_exactly_the_unreferenced_artifacts(t: TestStore) {
    let store = &t.store;
    let dir = tempfile::tempdir().expect("temp dir");
    let kept_image = store.put_bytes(Kind::Image, content(10, 100)).await.expect("put").digest;
    let lost_image = store.put_bytes(Kind::Image, content(11, 100)).await.expect("put").digest;
    let lost_pairs = store.put_bytes(Kind::PairSet, content(12, 100)).await.expect("put").digest;
    let kept_ckpt_dir = dir.path().join("kept");
    std::fs::create_dir_all(&kept_ckpt_dir).expect("mkdir");
    std::fs::write(kept_ckpt_dir.join("weights.bin"), content(13, 1000)).expect("write");
    let (kept_ckpt, kept_manifest) = store.put_dir(Kind::Checkpoint, &kept_ckpt_dir).await.expect("put_dir");
    let lost_ckpt_dir = dir.path().join("lost");
    std::fs::create_dir_all(&lost_ckpt_dir).expect("mkdir");
    std::fs::write(lost_ckpt_dir.join("weights.bin"), content(14, 1000)).expect("write");
    let (lost_ckpt, lost_manifest) = store.put_dir(Kind::Checkpoint, &lost_ckpt_dir).await.expect("put_dir");
    let keep = HashSet::from([kept_image, kept_ckpt.digest]);

    let young = store.gc(&keep, HOUR).await.expect("gc within grace");
    assert!(young.deleted.is_empty(), "just-written artifacts survive the grace period: {young:?}");
    assert_eq!(young.scanned, 7);

    let plan = store.gc_dry_run(&keep, Duration::ZERO).await.expect("gc dry run");
    assert_eq!(listed(store, Kind::Image).await, HashSet::from([kept_image, lost_image]), "a dry run deletes nothing");
    let report = store.gc(&keep, Duration::ZERO).await.expect("gc");
    let deleted: HashSet<(Kind, Digest)> = report.deleted.iter().map(|(k, d, _)| (*k, *d)).collect();
    let planned: HashSet<(Kind, Digest)> = plan.deleted.iter().map(|(k, d, _)| (*k, *d)).collect();
    assert_eq!((planned, plan.bytes_freed()), (deleted.clone(), report.bytes_freed()), "the dry run foretold it");
    let expected = HashSet::from([
        (Kind::Image, lost_image),
        (Kind::PairSet, lost_pairs),
        (Kind::Checkpoint, lost_ckpt.digest),
        (Kind::Blob, lost_manifest.files[0].digest),
    ]);
    assert_eq!(deleted, expected);
    assert_eq!(report.kept, 3);
    assert_eq!(listed(store, Kind::Image).await, HashSet::from([kept_image]));
    assert_eq!(listed(store, Kind::Blob).await, HashSet::from([kept_manifest.files[0].digest]));
    assert!(listed(store, Kind::PairSet).await.is_empty());
    let target = dir.path().join("restored");
    store.download_dir(Kind::Checkpoint, &kept_ckpt.digest, &target).await.expect("kept checkpoint is whole");

    let again = store.gc(&keep, Duration::ZERO).await.expect("gc again");
    assert!(again.deleted.is_empty(), "a second collection finds nothing more");
}

macro_rules! contract {
    ($backend:ident) => {
        mod $backend {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_put_get_roundtrip_and_dedup() {
                put_get_roundtrip_and_dedup(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_dedup_rewrites_copies_older_than_the_refresh_window() {
                dedup_rewrites_copies_older_than_the_refresh_window(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_large_files_stream_in_parts_and_download_verified() {
                large_files_stream_in_parts_and_download_verified(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_delete_and_missing_artifacts() {
                delete_and_missing_artifacts(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_damaged_objects_are_detected_and_foreign_objects_ignored() {
                damaged_objects_are_detected_and_foreign_objects_ignored(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_concurrent_writers_never_expose_a_partial_object() {
                concurrent_writers_of_the_same_content_never_expose_a_partial_object(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_directories_round_trip_through_manifests() {
                directories_round_trip_through_manifests(support::$backend()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn artifact_gc_removes_exactly_the_unreferenced() {
                gc_removes_exactly_the_unreferenced_artifacts(support::$backend()).await;
            }
        }
    };
}

contract!(local);
contract!(s3);
