//! A judge job through a local cluster of the real service binaries (fake critic, no model latency):
//! N labelled pairwise items uploaded as JSONL, released by the dispatcher in chunks, judged, written
//! and scored. Timings are read back from Postgres (what the services committed).

use crate::report::{rate, secs, table};
use devcluster::{Cluster, ClusterOptions};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
#[group(id = "backlog")]
pub struct Args {
    /// Items in the job.
    #[arg(long, default_value_t = 20_000)]
    pub items: usize,
    /// CRITICLOOP_SAGA__JUDGE_CHUNK_ITEMS (items per message).
    #[arg(long)]
    pub chunk_items: Option<u32>,
    /// CRITICLOOP_SAGA__BACKLOG_WINDOW (chunks in flight).
    #[arg(long)]
    pub window: Option<u32>,
    #[arg(long, default_value_t = 1800)]
    pub timeout_s: u64,
}

#[derive(Debug, Serialize)]
pub struct BacklogReport {
    pub items: usize,
    pub chunk_items: Option<u32>,
    pub window: Option<u32>,
    pub upload_bytes: usize,
    /// POST until the 201 (every line checked and inserted)
    pub upload_s: f64,
    /// job created -> last item judged
    pub judging_s: f64,
    pub items_per_s_judging: f64,
    /// job created -> metrics stored (completed)
    pub wall_s: f64,
    pub items_per_s_wall: f64,
}

impl BacklogReport {
    pub fn print(&self) {
        let knobs = format!(
            "chunk {} items, window {} chunks",
            self.chunk_items.map_or("default".into(), |c| c.to_string()),
            self.window.map_or("default".into(), |w| w.to_string())
        );
        table(
            &format!("backlog: 1 judge job, {} pairwise items with labels (fake critic, 0 ms), {knobs}", self.items),
            &[
                (
                    "upload (JSONL, checked and stored)",
                    format!("{} ({} MB)", secs(self.upload_s), self.upload_bytes / 1_000_000),
                ),
                ("created -> last item judged", secs(self.judging_s)),
                ("items/s judged", rate(self.items_per_s_judging)),
                ("created -> metrics stored", secs(self.wall_s)),
                ("items/s end to end", rate(self.items_per_s_wall)),
            ],
        );
    }
}

pub async fn run(args: &Args) -> anyhow::Result<BacklogReport> {
    anyhow::ensure!(args.items > 0, "need --items >= 1");
    let mut options = ClusterOptions::new("bench_backlog").env("CRITICLOOP_BACKEND__LATENCY_MS", 0);
    if let Some(c) = args.chunk_items {
        options = options.env("CRITICLOOP_SAGA__JUDGE_CHUNK_ITEMS", c);
    }
    if let Some(w) = args.window {
        options = options.env("CRITICLOOP_SAGA__BACKLOG_WINDOW", w);
    }
    let logs = options.log_dir.join(&options.name);
    eprintln!("starting a cluster (service logs in {})", logs.display());
    let cluster = Cluster::start(options).await?;
    let result = measure(&cluster, args).await;
    if result.is_err() {
        eprintln!("backlog benchmark failed; service logs are in {}", logs.display());
    }
    cluster.teardown().await?;
    result
}

async fn measure(cluster: &Cluster, args: &Args) -> anyhow::Result<BacklogReport> {
    let mut body = String::new();
    for i in 0..args.items {
        let line = json!({
            "id": format!("item-{i}"), "question": format!("Which answer describes image {i} better?"),
            "responses": [format!("A red square above a blue circle ({i})."), format!("A blue circle ({i}).")],
            "label": if i % 3 == 0 { "second" } else { "first" },
            "models": [format!("model-{}", i % 8), format!("model-{}", (i + 3) % 8)],
        });
        body.push_str(&line.to_string());
        body.push('\n');
    }
    let upload_bytes = body.len();
    let started = Instant::now();
    let resp = cluster
        .http
        .post(cluster.url("/v1/judge-jobs?critic=fake%3A%2F%2Fcritic&priority=4"))
        .bearer_auth(&cluster.token)
        .body(body)
        .send()
        .await?;
    let upload_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(resp.status().as_u16() == 201, "upload: {} {}", resp.status(), resp.text().await?);
    let job: Value = resp.json().await?;
    let id = job["id"].as_str().unwrap_or_default().to_string();
    let deadline = Instant::now() + Duration::from_secs(args.timeout_s);
    loop {
        let v: Value = cluster.get(&format!("/v1/judge-jobs/{id}")).await?.json().await?;
        if v["state"] == "completed" {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "judge job not completed after {}s: {v}", args.timeout_s);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pool = cluster.pool().await?;
    let (judging_s, wall_s): (f64, f64) = sqlx::query_as(
        "select extract(epoch from (select max(judged_at) from judge_items where job_id = j.id) - j.created_at)::float8,
                extract(epoch from j.finished_at - j.created_at)::float8
         from judge_jobs j where j.id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    let n = args.items as f64;
    Ok(BacklogReport {
        items: args.items,
        chunk_items: args.chunk_items,
        window: args.window,
        upload_bytes,
        upload_s,
        judging_s,
        items_per_s_judging: n / judging_s,
        wall_s,
        items_per_s_wall: n / wall_s,
    })
}
