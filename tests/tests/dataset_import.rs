//! Dataset import through the real API binary and the `criticloop` CLI: LLaVA-Critic-113k parquet (both
//! configs), LLaVA JSON with an image folder, JSONL. Rows, texts and image digests match the source (the
//! fixtures of `shared/ingest/tests/make_fixtures.py` and their `expected.json`), images download by digest,
//! bad rows are rejected by number, bad files store nothing, and importing twice changes nothing.

use criticloop_tests::cli::Out;
use criticloop_tests::{Cluster, ClusterOptions, Service};
use serde_json::Value;
use sha2::Digest as _;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

async fn api_only(name: &str) -> anyhow::Result<Cluster> {
    let mut options = ClusterOptions::new(name);
    options.skip = devcluster::SERVICES.into_iter().filter(|s| *s != Service::Api).collect();
    Cluster::start(options).await
}

/// Runs the ingest crate's fixture script into a fresh folder.
fn fixtures(name: &str) -> anyhow::Result<PathBuf> {
    let python = std::env::var("CRITICLOOP_PYTHON")
        .map_err(|_| anyhow::anyhow!("CRITICLOOP_PYTHON is not set: `source scripts/env` first"))?;
    let dir = std::env::temp_dir().join(format!("criticloop-{name}-{}", uuid::Uuid::new_v4().simple()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/ingest/tests/make_fixtures.py");
    let out = Command::new(python).arg(script).arg(&dir).output()?;
    anyhow::ensure!(out.status.success(), "make_fixtures.py: {}", String::from_utf8_lossy(&out.stderr));
    Ok(dir)
}

fn expected(dir: &Path, key: &str) -> anyhow::Result<Value> {
    let all: Value = serde_json::from_slice(&std::fs::read(dir.join("expected.json"))?)?;
    Ok(all[key].clone())
}

/// POSTs a file to the import route; (status, JSON body).
async fn import(cluster: &Cluster, file: &Path, query: &str) -> anyhow::Result<(u16, Value)> {
    let resp = cluster
        .http
        .post(cluster.url(&format!("/v1/datasets/import?{query}")))
        .bearer_auth(&cluster.token)
        .body(std::fs::read(file)?)
        .send()
        .await?;
    Ok((resp.status().as_u16(), resp.json().await?))
}

async fn export(cluster: &Cluster, dataset: &str) -> anyhow::Result<Vec<Value>> {
    let text = cluster.get(&format!("/v1/datasets/{dataset}/export")).await?.error_for_status()?.text().await?;
    text.lines().map(|l| Ok(serde_json::from_str(l)?)).collect()
}

/// (prompts, dataset_imports, datasets) rows in the database.
async fn counts(cluster: &Cluster) -> anyhow::Result<(i64, i64, i64)> {
    let pool = cluster.pool().await?;
    let counts = sqlx::query_as(
        "select (select count(*) from prompts), (select count(*) from dataset_imports), (select count(*) from datasets)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(counts)
}

/// Every expected row is exported with its id, source, conversations and image digest; nothing else is.
fn assert_rows_match(exported: &[Value], kind: &str, expected_rows: &Value) {
    let by_id: BTreeMap<&str, &Value> =
        exported.iter().filter(|r| r["kind"] == kind).map(|r| (r["id"].as_str().unwrap_or_default(), r)).collect();
    let rows = expected_rows.as_array().expect("expected rows");
    assert_eq!(by_id.len(), rows.len(), "{kind}: exported {:?}", by_id.keys());
    for want in rows {
        let id = want["id"].as_str().expect("id");
        let got = by_id.get(id).unwrap_or_else(|| panic!("{kind}: row {id} not exported"));
        assert_eq!(got["conversations"], want["conversations"], "{kind} {id}");
        assert_eq!(got["source"], want["source"], "{kind} {id}");
        let image = want["image"]["sha256"].as_str().map(|hex| format!("sha256:{hex}"));
        assert_eq!(got["image"].as_str(), image.as_deref(), "{kind} {id}");
        if let Some(w) = want["image"]["width"].as_u64() {
            assert_eq!(got["image_meta"]["width"].as_u64(), Some(w), "{kind} {id}");
        }
    }
}

/// Rejections as (row number, code).
fn rejections(report: &Value) -> Vec<(u64, String)> {
    report["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["row_number"].as_u64().unwrap_or(0), r["reason"]["code"].as_str().unwrap_or("").to_owned()))
        .collect()
}

fn expected_rejections(expected: &Value) -> Vec<(u64, String)> {
    expected["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["row_number"].as_u64().unwrap_or(0), r["code"].as_str().unwrap_or("").to_owned()))
        .collect()
}

/// Each image referenced by the export downloads from /v1/artifacts and hashes to its digest.
async fn assert_images_download(cluster: &Cluster, exported: &[Value]) -> anyhow::Result<usize> {
    let digests: std::collections::BTreeSet<&str> = exported.iter().filter_map(|r| r["image"].as_str()).collect();
    for reference in &digests {
        let resp = cluster.get(&format!("/v1/artifacts/{reference}")).await?;
        assert_eq!(resp.status().as_u16(), 200, "{reference}");
        let bytes = resp.bytes().await?;
        assert_eq!(format!("sha256:{}", hex(&sha2::Sha256::digest(&bytes))), *reference);
    }
    Ok(digests.len())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dataset_import_llava_critic_parquet_through_the_api() -> anyhow::Result<()> {
    let dir = fixtures("dataset-parquet")?;
    let cluster = api_only("dataset_parquet").await?;
    let pairwise = dir.join("critic/pairwise/train-00000-of-00001.parquet");
    let pointwise = dir.join("critic/pointwise/train-00000-of-00001.parquet");

    // pairwise into a new dataset: good rows in, a truncated image and a decompression bomb rejected by row
    let (status, report) = import(&cluster, &pairwise, "format=parquet&kind=critic_pairwise&name=critic113k").await?;
    assert_eq!(status, 201, "{report}");
    let want = expected(&dir, "critic_pairwise")?;
    let dataset = report["dataset_id"].as_str().expect("dataset_id").to_owned();
    assert_eq!(report["rows_ok"].as_u64(), Some(want["rows"].as_array().map_or(0, Vec::len) as u64), "{report}");
    assert_eq!(report["rows_new"], report["rows_ok"]);
    assert_eq!(rejections(&report), expected_rejections(&want), "{report}");
    assert!(report["rejected"][0]["message"].as_str().is_some_and(|m| m.contains("image")), "{report}");

    // pointwise into the same dataset
    let (status, report) =
        import(&cluster, &pointwise, &format!("format=parquet&kind=critic_pointwise&dataset_id={dataset}")).await?;
    assert_eq!(status, 201, "{report}");
    let want_pointwise = expected(&dir, "critic_pointwise")?;
    assert_eq!(rejections(&report), expected_rejections(&want_pointwise), "{report}");

    let exported = export(&cluster, &dataset).await?;
    assert_rows_match(&exported, "critic_pairwise", &want["rows"]);
    assert_rows_match(&exported, "critic_pointwise", &want_pointwise["rows"]);
    assert_eq!(assert_images_download(&cluster, &exported).await?, 3);
    let show: Value = cluster.get(&format!("/v1/datasets/{dataset}")).await?.json().await?;
    assert_eq!(
        show["rows_by_kind"]["critic_pairwise"].as_u64(),
        Some(want["rows"].as_array().map_or(0, Vec::len) as u64)
    );
    assert_eq!(show["imports"].as_array().map(Vec::len), Some(2), "{show}");
    assert_eq!(show["prompts"].as_i64(), Some(0), "critic rows are not campaign prompts: {show}");

    // importing the same file again under the same name: the same dataset, nothing new
    let before = counts(&cluster).await?;
    let (status, again) = import(&cluster, &pairwise, "format=parquet&kind=critic_pairwise&name=critic113k").await?;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["dataset_id"].as_str(), Some(dataset.as_str()));
    assert_eq!((again["rows_new"].as_u64(), again["images_stored"].as_u64()), (Some(0), Some(0)), "{again}");
    assert_eq!(again["already_imported"], true);
    assert_eq!(counts(&cluster).await?, before);
    assert_eq!(export(&cluster, &dataset).await?, exported);

    // a truncated file: 422 naming the problem, nothing stored
    let (status, body) = import(&cluster, &dir.join("broken/truncated.parquet"), "format=parquet&name=broken").await?;
    assert_eq!((status, body["error"]["code"].as_str()), (422, Some("invalid_file")), "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("parquet") && m.contains("uploaded file")));
    let (status, body) =
        import(&cluster, &dir.join("broken/no_conversations.parquet"), "format=parquet&name=broken").await?;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| m.contains("conversations")), "{body}");
    assert_eq!(counts(&cluster).await?, before);

    // JSONL naming images already stored by sha256: (checked again from the store) or absent ones
    let stored = want["rows"][0]["image"]["sha256"].as_str().expect("a stored image");
    let refs = dir.join("refs.jsonl");
    let lines = [
        serde_json::json!({"id": "r1", "question": "Same picture?", "image": format!("sha256:{stored}")}),
        serde_json::json!({"id": "r2", "question": "Absent", "image": format!("sha256:{}", "0".repeat(64))}),
        serde_json::json!({"id": "r3", "question": "Bad", "image": "sha256:xyz"}),
    ];
    std::fs::write(&refs, lines.iter().map(|l| format!("{l}\n")).collect::<String>())?;
    let (status, report) = import(&cluster, &refs, "format=jsonl&name=refs").await?;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["rows_ok"].as_u64(), Some(1), "{report}");
    let codes = [(2, "image_artifact_missing".to_owned()), (3, "bad_artifact_ref".to_owned())];
    assert_eq!(rejections(&report), codes, "{report}");
    let refs_rows = export(&cluster, report["dataset_id"].as_str().expect("dataset_id")).await?;
    assert_eq!(refs_rows[0]["image"].as_str(), Some(format!("sha256:{stored}").as_str()));

    let doc: Value = cluster.get("/v1/openapi.json").await?.json().await?;
    for path in ["/v1/datasets/import", "/v1/datasets/{id}/export", "/v1/artifacts/{sha256}"] {
        assert!(doc["paths"][path].is_object(), "{path} is not in the OpenAPI document");
    }

    // bad parameters, unknown artifacts
    let (status, body) = import(&cluster, &pairwise, "format=csv&name=x").await?;
    assert_eq!(status, 422, "{body}");
    let missing = format!("/v1/artifacts/sha256:{}", "0".repeat(64));
    let resp = cluster.get(&missing).await?;
    assert_eq!(resp.status().as_u16(), 404);
    let body: Value = resp.json().await?;
    assert_eq!(body["error"]["code"], "not_found");
    let _ = std::fs::remove_dir_all(dir);
    cluster.teardown().await?;
    Ok(())
}

async fn cli(cluster: &Cluster, args: &[&str]) -> anyhow::Result<Out> {
    criticloop_tests::cli::criticloop(&cluster.api_url, &cluster.token, args).await
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn dataset_cli_imports_llava_json_with_images_and_jsonl() -> anyhow::Result<()> {
    let dir = fixtures("dataset-cli")?;
    let cluster = api_only("dataset_cli").await?;

    // LLaVA JSON + image folder: the CLI inlines the images; the server checks them
    let (json, images) = (dir.join("llava/data.json"), dir.join("llava/images"));
    let args = ["dataset", "import", s(&json), "--format", "llava-json", "--images", s(&images), "--name", "llava"];
    let out = cli(&cluster, &args).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dataset = out.stdout.trim().to_owned();
    assert!(out.stderr.contains("uploaded"), "no progress: {}", out.stderr);
    assert!(out.stderr.contains("rejected row 5 (id 5)"), "{}", out.stderr);
    assert!(out.stderr.contains("rejected row 11"), "{}", out.stderr);
    let want = expected(&dir, "llava")?;
    let exported = export(&cluster, &dataset).await?;
    // wide.png (row 6) is within the server's default limits (the ingest tests lower them)
    let mut rows = want["rows"].as_array().cloned().unwrap_or_default();
    rows.retain(|r| r["id"] != "6");
    let by_id: BTreeMap<&str, &Value> = exported.iter().map(|r| (r["id"].as_str().unwrap_or_default(), r)).collect();
    for row in &rows {
        let got = by_id.get(row["id"].as_str().unwrap_or_default()).expect("row exported");
        assert_eq!(got["conversations"], row["conversations"]);
        let image = row["image"]["sha256"].as_str().map(|hex| format!("sha256:{hex}"));
        assert_eq!(got["image"].as_str(), image.as_deref(), "{}", row["id"]);
    }
    assert_eq!(exported.len(), rows.len() + 1, "rows 1, 2, 3, 6 and 12: {exported:?}");
    assert_eq!(by_id.get("2").map(|r| r["extra"]["model"].clone()), Some(Value::from("llava-v1.5")));
    assert_images_download(&cluster, &exported).await?;

    // again: nothing changes
    let before = counts(&cluster).await?;
    let out = cli(&cluster, &args).await?;
    assert_eq!((out.code, out.stdout.trim()), (0, dataset.as_str()), "{}", out.stderr);
    assert!(out.stderr.contains("(0 new)"), "{}", out.stderr);
    assert_eq!(counts(&cluster).await?, before);

    // JSONL: inline images import; file paths are refused by the server, row by row
    let out = cli(&cluster, &["dataset", "import", s(&dir.join("prompts.jsonl")), "--format", "jsonl"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("rejected row 1 (id p1): image \"llava/images/coco/a.png\" is a file path"),
        "{}",
        out.stderr
    );
    let jsonl = out.stdout.trim().to_owned();
    let exported = export(&cluster, &jsonl).await?;
    let ids: Vec<&str> = exported.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["p2", "p3"]);
    let want = expected(&dir, "jsonl")?;
    assert_eq!(
        exported[0]["image"].as_str().map(str::to_owned),
        want["rows"][1]["image"]["sha256"].as_str().map(|h| format!("sha256:{h}"))
    );
    assert_eq!(exported[0]["question"], "And here?");

    // a truncated file: non-zero exit naming the problem, nothing stored
    let before = counts(&cluster).await?;
    let out =
        cli(&cluster, &["dataset", "import", s(&dir.join("broken/truncated.jsonl")), "--format", "jsonl"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("invalid jsonl at line"), "{}", out.stderr);
    assert_eq!(counts(&cluster).await?, before);

    // list, show, export -o
    let out = cli(&cluster, &["dataset", "list"]).await?;
    assert!(out.stdout.contains(&dataset) && out.stdout.contains("llava"), "{}", out.stdout);
    let out = cli(&cluster, &["dataset", "show", &dataset]).await?;
    let show: Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(show["rows_by_kind"]["prompt"].as_u64(), Some(5), "{show}");
    let file = std::env::temp_dir().join(format!("criticloop-export-{}.jsonl", uuid::Uuid::new_v4().simple()));
    let out = cli(&cluster, &["dataset", "export", &dataset, "-o", s(&file)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&file)?.lines().count(), 5);
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_dir_all(dir);
    cluster.teardown().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn artifact_inline_judge_item_images_are_stored_and_referenced() -> anyhow::Result<()> {
    use base64::Engine as _;
    let dir = fixtures("artifact-judge")?;
    // every service: the item is judged, so its result line is served
    let cluster = Cluster::start(ClusterOptions::new("artifact_judge")).await?;
    let png = std::fs::read(dir.join("llava/images/coco/a.png"))?;
    let digest = hex(&sha2::Sha256::digest(&png));
    let uri = format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png));
    let item = |id: &str, image: &str| {
        serde_json::json!({"id": id, "question": "Which is better?", "image": image, "responses": ["A", "B"],
                           "label": "first"})
        .to_string()
    };
    let submit = |body: String| {
        cluster
            .http
            .post(cluster.url("/v1/judge-jobs?critic=critic-ckpt&priority=5"))
            .bearer_auth(&cluster.token)
            .body(body)
            .send()
    };

    // a corrupt inline image fails its line: 422, nothing stored
    let truncated =
        format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(&png[..png.len() / 2]));
    let resp = submit(format!("{}\n{}\n", item("j1", &uri), item("j2", &truncated))).await?;
    assert_eq!(resp.status().as_u16(), 422);
    let body: Value = resp.json().await?;
    assert_eq!(body["error"]["lines"][0]["line"], 2, "{body}");
    assert!(body["error"]["lines"][0]["message"].as_str().is_some_and(|m| m.contains("image")), "{body}");

    // a good one is stored and the item keeps its sha256: reference
    let resp = submit(format!("{}\n", item("j1", &uri))).await?;
    assert_eq!(resp.status().as_u16(), 201);
    let pool = cluster.pool().await?;
    let stored: Vec<String> = sqlx::query_scalar("select item->>'image' from judge_items").fetch_all(&pool).await?;
    pool.close().await;
    assert_eq!(stored, [format!("sha256:{digest}")]);
    // the job's results name the same stored image
    let job: Value = resp.json().await?;
    let job_id = job["id"].as_str().expect("job id");
    criticloop_tests::backlog::wait_state(&cluster, job_id, "completed", std::time::Duration::from_secs(120)).await?;
    let results = cluster.get(&format!("/v1/judge-jobs/{job_id}/results")).await?.error_for_status()?.text().await?;
    let lines: Vec<Value> = results.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(lines.len(), 1, "{results}");
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["image"].as_str()),
        (Some("j1"), Some(format!("sha256:{digest}").as_str()))
    );
    let bytes = cluster.get(&format!("/v1/artifacts/{digest}")).await?.error_for_status()?.bytes().await?;
    assert_eq!(bytes.as_ref(), png.as_slice());
    let _ = std::fs::remove_dir_all(dir);
    cluster.teardown().await?;
    Ok(())
}
