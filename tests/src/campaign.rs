use devcluster::Cluster;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Creates a dataset of `n` prompts through the API; `question(i)` writes prompt i.
pub async fn dataset(cluster: &Cluster, n: usize, question: impl Fn(usize) -> String) -> anyhow::Result<String> {
    let prompts: Vec<Value> = (0..n).map(|i| json!({"question": question(i)})).collect();
    let r = cluster.post("/v1/datasets", &json!({"name": "test", "prompts": prompts})).await?;
    anyhow::ensure!(r.status().as_u16() == 201, "dataset: {} {}", r.status(), r.text().await?);
    let v: Value = r.json().await?;
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

/// Imports generated world items (each with its ground truth in a `world` field, images inline) as a
/// dataset named `name` through the API's JSONL import; returns its id.
pub async fn import_world(cluster: &Cluster, name: &str, items: &[world::Item]) -> anyhow::Result<String> {
    let mut body = Vec::new();
    world::write_jsonl(items, &mut body)?;
    let resp = cluster
        .http
        .post(cluster.url(&format!("/v1/datasets/import?format=jsonl&name={name}")))
        .bearer_auth(&cluster.token)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(resp.status().as_u16() == 201, "import {name}: {}", resp.text().await?);
    let report: Value = resp.json().await?;
    anyhow::ensure!(report["rows_ok"].as_u64() == Some(items.len() as u64), "import {name}: {report}");
    Ok(report["dataset_id"].as_str().unwrap_or_default().to_string())
}

/// A campaign spec with the given overrides merged in.
pub fn spec(dataset: &str, rounds: u32, k: u32, extra: Value) -> Value {
    let mut spec = json!({
        "name": "test campaign",
        "dataset_id": dataset,
        "rounds": rounds,
        "samples_per_prompt": k,
        "policy": {"checkpoint": "fake://policy/base"},
        "critic": {"checkpoint": "fake://critic"},
    });
    if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            s.insert(k.clone(), v.clone());
        }
    }
    spec
}

pub async fn create(cluster: &Cluster, spec: &Value) -> anyhow::Result<String> {
    let r = cluster.post("/v1/campaigns", spec).await?;
    anyhow::ensure!(r.status().as_u16() == 201, "campaign: {} {}", r.status(), r.text().await?);
    let v: Value = r.json().await?;
    Ok(v["id"].as_str().unwrap_or_default().to_string())
}

pub async fn get(cluster: &Cluster, id: &str) -> anyhow::Result<Value> {
    let r = cluster.get(&format!("/v1/campaigns/{id}")).await?;
    anyhow::ensure!(r.status().is_success(), "get campaign: {}", r.status());
    Ok(r.json().await?)
}

/// Polls the campaign until its state is terminal (or `within` passes), returning its last view.
pub async fn wait_finished(cluster: &Cluster, id: &str, within: Duration) -> anyhow::Result<Value> {
    let deadline = Instant::now() + within;
    loop {
        // The API may be down while a test restarts it: keep polling.
        if let Ok(v) = get(cluster, id).await {
            if matches!(v["state"].as_str(), Some("completed" | "failed" | "cancelled")) {
                return Ok(v);
            }
            if Instant::now() > deadline {
                anyhow::bail!("campaign not finished after {within:?}: {}", serde_json::to_string_pretty(&v)?);
            }
        } else if Instant::now() > deadline {
            anyhow::bail!("campaign not finished after {within:?} (API unreachable)");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
