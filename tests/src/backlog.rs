//! Judge jobs through the real API: JSONL uploads, waiting for a state, reading results.

use devcluster::Cluster;
use serde_json::Value;
use std::time::{Duration, Instant};

/// POSTs `body` (JSONL) to /v1/judge-jobs with `query`; returns (status, JSON answer).
pub async fn submit(cluster: &Cluster, query: &str, body: String) -> anyhow::Result<(u16, Value)> {
    let resp = cluster
        .http
        .post(cluster.url(&format!("/v1/judge-jobs?{query}")))
        .bearer_auth(&cluster.token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    Ok((status, resp.json().await?))
}

/// Submits and expects 201; returns the job id.
pub async fn create(cluster: &Cluster, query: &str, lines: &[Value]) -> anyhow::Result<String> {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (status, job) = submit(cluster, query, body).await?;
    anyhow::ensure!(status == 201, "submit: {status} {job}");
    Ok(job["id"].as_str().unwrap_or_default().to_string())
}

pub async fn get(cluster: &Cluster, id: &str) -> anyhow::Result<Value> {
    let r = cluster.get(&format!("/v1/judge-jobs/{id}")).await?;
    anyhow::ensure!(r.status().is_success(), "get judge job: {}", r.status());
    Ok(r.json().await?)
}

/// Polls until the job is `state` (or `within` passes), returning its view.
pub async fn wait_state(cluster: &Cluster, id: &str, state: &str, within: Duration) -> anyhow::Result<Value> {
    let deadline = Instant::now() + within;
    loop {
        let v = get(cluster, id).await?;
        if v["state"] == state {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "judge job not {state} after {within:?}: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every result line of the job, parsed.
pub async fn results(cluster: &Cluster, id: &str) -> anyhow::Result<Vec<Value>> {
    let r = cluster.get(&format!("/v1/judge-jobs/{id}/results")).await?;
    anyhow::ensure!(r.status().is_success(), "results: {}", r.status());
    let text = r.text().await?;
    text.lines().map(|l| Ok(serde_json::from_str(l)?)).collect()
}

pub fn settled(job: &Value) -> i64 {
    job["items_judged"].as_i64().unwrap_or(0) + job["items_failed"].as_i64().unwrap_or(0)
}
