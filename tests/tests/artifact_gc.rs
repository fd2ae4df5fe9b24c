//! Garbage collection of the artifact store through the real API and CLI: the keep set is what the database
//! references (imported dataset images, judge-item images, campaign and checkpoint `sha256:` references,
//! less the checkpoints compensation marked collectable). Exactly the unreferenced artifacts go, fresh
//! uploads survive the grace period, a dry run removes nothing, and deleting a dataset frees its images.

use artifacts::{ArtifactStore, Digest, Kind, StoreConfig};
use base64::Engine as _;
use criticloop_tests::{Cluster, ClusterOptions, Service};
use futures::TryStreamExt;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Runs the ingest crate's fixture script (pillow images among others) into a fresh folder.
fn fixtures(name: &str) -> anyhow::Result<PathBuf> {
    let python = std::env::var("CRITICLOOP_PYTHON")
        .map_err(|_| anyhow::anyhow!("CRITICLOOP_PYTHON is not set: `source scripts/env` first"))?;
    let dir = std::env::temp_dir().join(format!("criticloop-{name}-{}", uuid::Uuid::new_v4().simple()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ingest/tests/make_fixtures.py");
    let out = std::process::Command::new(python).arg(script).arg(&dir).output()?;
    anyhow::ensure!(out.status.success(), "make_fixtures.py: {}", String::from_utf8_lossy(&out.stderr));
    Ok(dir)
}

fn data_uri(bytes: &[u8], mime: &str) -> String {
    format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Every artifact in the store, as (kind, digest).
async fn listed(store: &ArtifactStore) -> anyhow::Result<BTreeSet<(Kind, Digest)>> {
    let mut all = BTreeSet::new();
    for kind in Kind::ALL {
        let metas: Vec<_> = store.list(kind).try_collect().await?;
        all.extend(metas.into_iter().map(|m| (kind, m.digest)));
    }
    Ok(all)
}

/// The digests a gc report lists as removed.
fn removed(report: &Value) -> BTreeSet<String> {
    report["removed_artifacts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["digest"].as_str().map(str::to_owned))
        .collect()
}

fn refs(digests: &[Digest]) -> BTreeSet<String> {
    digests.iter().map(|d| format!("sha256:{d}")).collect()
}

async fn gc(cluster: &Cluster, body: Value) -> anyhow::Result<(u16, Value)> {
    let resp = cluster.post("/v1/artifacts/gc", &body).await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

async fn cli(cluster: &Cluster, args: &[&str]) -> anyhow::Result<criticloop_tests::cli::Out> {
    criticloop_tests::cli::criticloop(&cluster.api_url, &cluster.token, args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn artifact_gc_removes_exactly_the_unreferenced_artifacts() -> anyhow::Result<()> {
    let dir = fixtures("artifact-gc")?;
    let mut options = ClusterOptions::new("artifact_gc");
    options.skip = devcluster::SERVICES.into_iter().filter(|s| *s != Service::Api).collect();
    // every put writes (renews its artifact's age), so a zero grace period is allowed
    let cluster = Cluster::start(options.env("CRITICLOOP_ARTIFACTS__DEDUP_REFRESH_SECS", 0)).await?;
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let images = dir.join("llava/images/coco");
    let (png_a, png_b, jpeg_c) = (
        std::fs::read(images.join("a.png"))?,
        std::fs::read(images.join("b.png"))?,
        std::fs::read(images.join("c.jpg"))?,
    );
    let (a, b, c) = (Digest::of(&png_a), Digest::of(&png_b), Digest::of(&jpeg_c));

    // a dataset imported with two images (and a row repeating an id, rejected by number)
    let lines = [
        json!({"id": "g1", "question": "What is shown?", "image": data_uri(&png_a, "image/png")}),
        json!({"id": "g2", "question": "And here?", "image": data_uri(&jpeg_c, "image/jpeg")}),
        json!({"id": "g1", "question": "Again?", "image": data_uri(&png_a, "image/png")}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let resp = cluster
        .http
        .post(cluster.url("/v1/datasets/import?format=jsonl&name=gc-images"))
        .bearer_auth(&cluster.token)
        .body(body)
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 201);
    let report: Value = resp.json().await?;
    let imported = report["dataset_id"].as_str().expect("dataset_id").to_owned();
    assert_eq!(report["rows_ok"].as_u64(), Some(2), "{report}");
    assert_eq!(report["rejected"][0]["row_number"].as_u64(), Some(3), "{report}");
    assert_eq!(report["rejected"][0]["reason"]["code"], "duplicate_id", "{report}");
    assert_eq!(report["rejected"][0]["message"], "duplicate id `g1` (first at row 1)", "{report}");

    // a judge job whose item carries an inline image (stored and rewritten to its sha256: reference)
    let item = json!({"id": "j1", "question": "Which is better?", "image": data_uri(&png_b, "image/png"),
                      "responses": ["A", "B"], "label": "first"});
    let resp = cluster
        .http
        .post(cluster.url("/v1/judge-jobs?critic=critic-ckpt&priority=5"))
        .bearer_auth(&cluster.token)
        .body(format!("{item}\n"))
        .send()
        .await?;
    assert_eq!(resp.status().as_u16(), 201, "{}", resp.text().await?);

    // a campaign whose policy checkpoint is an artifact, on a dataset of its own (no images)
    let policy = store.put_bytes(Kind::Blob, b"policy weights".to_vec()).await?.digest;
    let prompts = json!({"name": "gc-campaign", "prompts": [{"question": "q1"}, {"question": "q2"}]});
    let used: Value = cluster.post("/v1/datasets", &prompts).await?.json().await?;
    let used = used["id"].as_str().expect("dataset id").to_owned();
    let mut spec = criticloop_tests::campaign::spec(&used, 1, 2, json!({}));
    spec["policy"]["checkpoint"] = format!("sha256:{policy}").into();
    let campaign = criticloop_tests::campaign::create(&cluster, &spec).await?;

    // checkpoints of that campaign: one live, one that compensation marked collectable
    let live = store.put_bytes(Kind::Blob, b"round 1 weights".to_vec()).await?.digest;
    let failed = store.put_bytes(Kind::Blob, b"failed round weights".to_vec()).await?.digest;
    let campaign_id = uuid::Uuid::parse_str(&campaign)?;
    let pool = cluster.pool().await?;
    for (digest, collectable) in [(live, false), (failed, true)] {
        sqlx::query("insert into checkpoints (id, campaign_id, uri, collectable) values ($1, $2, $3, $4)")
            .bind(uuid::Uuid::now_v7())
            .bind(campaign_id)
            .bind(format!("sha256:{digest}"))
            .bind(collectable)
            .execute(&pool)
            .await?;
    }
    pool.close().await;

    // and one artifact nothing references
    let orphan = store.put_bytes(Kind::Image, b"uploaded, never referenced".to_vec()).await?.digest;
    let everything = listed(&store).await?;
    assert_eq!(everything.len(), 7, "{everything:?}");

    // the default grace period (a day) keeps every fresh upload
    let (status, report) = gc(&cluster, json!({})).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!((report["removed"].as_u64(), report["spared_young"].as_u64()), (Some(0), Some(2)), "{report}");
    assert_eq!(listed(&store).await?, everything);

    // a dry run (through the CLI) names the two unreferenced artifacts and removes nothing
    let out = cli(&cluster, &["artifacts", "gc", "--dry-run", "--older-than", "0s"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dry: Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(removed(&dry), refs(&[orphan, failed]), "{dry}");
    assert!(out.stderr.contains("would remove 2"), "{}", out.stderr);
    assert_eq!(listed(&store).await?, everything, "a dry run removes nothing");

    // the collection removes exactly those two
    let (status, report) = gc(&cluster, json!({"older_than_s": 0})).await?;
    assert_eq!(status, 200, "{report}");
    assert_eq!(removed(&report), refs(&[orphan, failed]), "{report}");
    assert_eq!(report["removed"].as_u64(), Some(2));
    assert_eq!(
        report["bytes_freed"].as_u64(),
        Some(("uploaded, never referenced".len() + "failed round weights".len()) as u64)
    );
    let kept: BTreeSet<(Kind, Digest)> =
        [(Kind::Image, a), (Kind::Image, b), (Kind::Image, c), (Kind::Blob, policy), (Kind::Blob, live)].into();
    assert_eq!(listed(&store).await?, kept);
    for image in [a, b, c] {
        let resp = cluster.get(&format!("/v1/artifacts/sha256:{image}")).await?;
        assert_eq!(resp.status().as_u16(), 200, "referenced image {image} still downloads");
    }

    // a dataset a campaign uses cannot be deleted: 409 naming the campaign, nothing changes
    let resp =
        cluster.http.delete(cluster.url(&format!("/v1/datasets/{used}"))).bearer_auth(&cluster.token).send().await?;
    assert_eq!(resp.status().as_u16(), 409);
    let body: Value = resp.json().await?;
    assert_eq!(body["error"]["code"], "conflict", "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains(&campaign)), "{body}");

    // deleting the imported dataset (through the CLI) drops its images' references: the next gc takes them
    let out = cli(&cluster, &["dataset", "delete", &imported]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(cluster.get(&format!("/v1/datasets/{imported}")).await?.status().as_u16(), 404);
    let out = cli(&cluster, &["dataset", "delete", &imported]).await?;
    assert!(out.code != 0 && out.stderr.contains("not found"), "{}", out.stderr);
    let out = cli(&cluster, &["artifacts", "gc", "--older-than", "0"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(removed(&report), refs(&[a, c]), "the judge job still references b: {report}");
    let kept: BTreeSet<(Kind, Digest)> = [(Kind::Image, b), (Kind::Blob, policy), (Kind::Blob, live)].into();
    assert_eq!(listed(&store).await?, kept);
    let (_, again) = gc(&cluster, json!({"older_than_s": 0})).await?;
    assert_eq!(again["removed"].as_u64(), Some(0), "{again}");

    // bad requests: 4xx with a JSON body naming the problem
    let (status, body) = gc(&cluster, json!({"older_than_s": -1})).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_json")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("older_than_s")), "{body}");
    let (status, body) = gc(&cluster, json!({"dry": true})).await?;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("dry")), "{body}");
    let resp = cluster.http.delete(cluster.url("/v1/datasets/not-a-uuid")).bearer_auth(&cluster.token).send().await?;
    assert_eq!(resp.status().as_u16(), 404);
    let out = cli(&cluster, &["artifacts", "gc", "--older-than", "3w"]).await?;
    assert!(out.code != 0 && out.stderr.contains("3w"), "{}", out.stderr);

    let doc: Value = cluster.get("/v1/openapi.json").await?.json().await?;
    assert!(doc["paths"]["/v1/artifacts/gc"]["post"].is_object(), "gc is not in the OpenAPI document");
    assert!(doc["paths"]["/v1/datasets/{id}"]["delete"].is_object());
    let _ = std::fs::remove_dir_all(dir);
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn artifact_gc_refuses_a_grace_period_shorter_than_the_dedup_refresh() -> anyhow::Result<()> {
    let mut options = ClusterOptions::new("artifact_gc_grace");
    options.skip = devcluster::SERVICES.into_iter().filter(|s| *s != Service::Api).collect();
    let cluster = Cluster::start(options.env("CRITICLOOP_ARTIFACTS__DEDUP_REFRESH_SECS", 600)).await?;
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let orphan = store.put_bytes(Kind::Image, b"never referenced".to_vec()).await?.digest;
    let (status, body) = gc(&cluster, json!({"older_than_s": 599})).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_request")), "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "older_than_s", "{body}");
    assert!(body["error"]["fields"][0]["message"].as_str().is_some_and(|m| m.contains("600")), "{body}");
    let (status, body) = gc(&cluster, json!({"older_than_s": 600})).await?;
    assert_eq!((status, body["removed"].as_u64(), body["spared_young"].as_u64()), (200, Some(0), Some(1)), "{body}");
    assert!(store.exists(Kind::Image, &orphan).await?);
    cluster.teardown().await
}
