//! One round of a campaign through a local cluster of the real service binaries (fake backend, no
//! model latency): N prompts x K samples -> N*K*(K-1) judge tasks, then aggregation and training.
//! Every timing is read back from Postgres, so it is what the services committed.

use crate::report::{opt_secs, rate, secs, table};
use devcluster::{Cluster, ClusterOptions};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
#[group(id = "saga")]
pub struct Args {
    /// Prompts in the dataset.
    #[arg(long, default_value_t = 2000)]
    pub prompts: usize,
    /// Samples per prompt (K); each prompt makes K*(K-1) judge tasks.
    #[arg(long, default_value_t = 5)]
    pub samples: u32,
    /// CRITICLOOP_BROKER__BATCH for every service.
    #[arg(long)]
    pub batch: Option<usize>,
    /// CRITICLOOP_BROKER__PREFETCH for every service.
    #[arg(long)]
    pub prefetch: Option<u16>,
    /// CRITICLOOP_SAGA__JUDGE_PAIRS_PER_MESSAGE for the orchestrator (0: all of a prompt's pairs in one
    /// message, the default; 1: one message per judge task).
    #[arg(long)]
    pub pairs_per_message: Option<usize>,
    /// Give up on the campaign after this many seconds.
    #[arg(long, default_value_t = 1800)]
    pub timeout_s: u64,
}

#[derive(Debug, Serialize)]
pub struct SagaReport {
    pub prompts: usize,
    pub samples_per_prompt: u32,
    pub batch: Option<usize>,
    pub prefetch: Option<u16>,
    pub pairs_per_message: Option<usize>,
    pub samples: i64,
    pub judge_tasks: i64,
    /// judgments / (max - min judgments.created_at)
    pub judge_per_s_judging_window: f64,
    /// judgments / round wall time
    pub judge_per_s_round: f64,
    pub judging_window_s: f64,
    pub generation_window_s: f64,
    /// rounds.created_at -> first judgment
    pub first_judgment_s: f64,
    /// rounds.created_at -> rounds.finished_at
    pub round_wall_s: f64,
    /// last judgment -> rounds.training_queued_at
    pub barrier_train_queued_s: Option<f64>,
    /// last judgment -> the training worker's lease on train/<round>
    pub barrier_train_claimed_s: Option<f64>,
    /// last pair written (the last prompt aggregated) -> rounds.training_queued_at
    pub barrier_last_pair_train_queued_s: Option<f64>,
    /// campaign POST -> completed, as the client saw it (includes polling granularity)
    pub campaign_client_s: f64,
}

impl SagaReport {
    pub fn print(&self) {
        let knobs = format!(
            "batch {}, prefetch {}, judge pairs per message {}",
            self.batch.map_or("default".into(), |b| b.to_string()),
            self.prefetch.map_or("default".into(), |p| p.to_string()),
            self.pairs_per_message.map_or("default (all of a prompt's)".into(), |p| p.to_string())
        );
        table(
            &format!(
                "saga: 1 round, {} prompts x K={} (fake backend, 0 ms), {knobs}",
                self.prompts, self.samples_per_prompt
            ),
            &[
                ("samples", self.samples.to_string()),
                ("judge tasks (judgments rows)", self.judge_tasks.to_string()),
                ("generation phase (samples first -> last)", secs(self.generation_window_s)),
                ("round start -> first judgment", secs(self.first_judgment_s)),
                ("judging phase (judgments first -> last)", secs(self.judging_window_s)),
                ("judge tasks/s over the judging phase", rate(self.judge_per_s_judging_window)),
                ("round wall time (created -> finished)", secs(self.round_wall_s)),
                ("judge tasks/s over the round wall time", rate(self.judge_per_s_round)),
                ("barrier: last judgment -> train queued", opt_secs(self.barrier_train_queued_s)),
                ("barrier: last judgment -> train claimed", opt_secs(self.barrier_train_claimed_s)),
                ("  of which last pair -> train queued", opt_secs(self.barrier_last_pair_train_queued_s)),
                ("campaign as seen by the client", secs(self.campaign_client_s)),
            ],
        );
    }
}

pub async fn run(args: &Args) -> anyhow::Result<SagaReport> {
    anyhow::ensure!(args.prompts > 0 && args.samples >= 2, "need --prompts >= 1 and --samples >= 2");
    let mut options = ClusterOptions::new("bench").env("CRITICLOOP_BACKEND__LATENCY_MS", 0);
    if let Some(b) = args.batch {
        options = options.env("CRITICLOOP_BROKER__BATCH", b);
    }
    if let Some(p) = args.prefetch {
        options = options.env("CRITICLOOP_BROKER__PREFETCH", p);
    }
    if let Some(p) = args.pairs_per_message {
        options = options.env("CRITICLOOP_SAGA__JUDGE_PAIRS_PER_MESSAGE", p);
    }
    let logs = options.log_dir.join(&options.name);
    eprintln!("starting a cluster (service logs in {})", logs.display());
    let cluster = Cluster::start(options).await?;
    let result = measure(&cluster, args).await;
    if result.is_err() {
        eprintln!("saga benchmark failed; service logs are in {}", logs.display());
    }
    cluster.teardown().await?;
    result
}

async fn post(cluster: &Cluster, path: &str, body: &Value) -> anyhow::Result<String> {
    let r = cluster.post(path, body).await?;
    let status = r.status();
    anyhow::ensure!(status.as_u16() == 201, "POST {path}: {status} {}", r.text().await?);
    let v: Value = r.json().await?;
    v["id"].as_str().map(str::to_string).ok_or_else(|| anyhow::anyhow!("POST {path}: no id in {v}"))
}

/// Polls the campaign until it is terminal; returns its last view.
async fn wait_finished(cluster: &Cluster, id: &str, within: Duration) -> anyhow::Result<Value> {
    let deadline = Instant::now() + within;
    loop {
        let r = cluster.get(&format!("/v1/campaigns/{id}")).await?;
        anyhow::ensure!(r.status().is_success(), "GET campaign: {}", r.status());
        let v: Value = r.json().await?;
        if matches!(v["state"].as_str(), Some("completed" | "failed" | "cancelled")) {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "campaign not finished after {within:?}: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

type Timings = (i64, i64, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>, Option<f64>);

async fn measure(cluster: &Cluster, args: &Args) -> anyhow::Result<SagaReport> {
    let (n, k) = (args.prompts, args.samples);
    let prompts: Vec<Value> = (0..n).map(|i| json!({"question": format!("What is in image {i}?")})).collect();
    let dataset = post(cluster, "/v1/datasets", &json!({"name": "bench", "prompts": prompts})).await?;
    let spec = json!({
        "name": "bench", "dataset_id": dataset, "rounds": 1, "samples_per_prompt": k,
        "policy": {"checkpoint": "fake://policy/base"}, "critic": {"checkpoint": "fake://critic"},
    });
    let started = Instant::now();
    let campaign = post(cluster, "/v1/campaigns", &spec).await?;
    let view = wait_finished(cluster, &campaign, Duration::from_secs(args.timeout_s)).await?;
    let campaign_client_s = started.elapsed().as_secs_f64();
    anyhow::ensure!(view["state"] == "completed", "campaign did not complete: {view:#}");
    let round: uuid::Uuid =
        view["rounds"][0]["id"].as_str().ok_or_else(|| anyhow::anyhow!("no round in {view}"))?.parse()?;

    let pool = cluster.pool().await?;
    let t: Timings = sqlx::query_as(
        "with j as (select count(*) n, min(created_at) first, max(created_at) last from judgments where round_id = $1),
              s as (select count(*) n, min(created_at) first, max(created_at) last from samples where round_id = $1),
              r as (select created_at, finished_at, training_queued_at from rounds where id = $1)
         select j.n, s.n,
                extract(epoch from j.last - j.first)::float8,
                extract(epoch from s.last - s.first)::float8,
                extract(epoch from j.first - r.created_at)::float8,
                extract(epoch from r.finished_at - r.created_at)::float8,
                extract(epoch from r.training_queued_at - j.last)::float8,
                extract(epoch from (select claimed_at from task_leases where task_key = $2) - j.last)::float8,
                extract(epoch from r.training_queued_at - (select max(created_at) from pairs where round_id = $1))::float8
         from j, s, r",
    )
    .bind(round)
    .bind(format!("train/{round}"))
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    let (judgments, samples, judging, generation, first_judgment, round_wall, queued, claimed, after_pairs) = t;

    let expected = (n * k as usize * (k as usize - 1)) as i64;
    anyhow::ensure!(
        judgments == expected,
        "JUDGMENT COUNT MISMATCH: {judgments} rows in judgments, expected N*K*(K-1) = {expected}"
    );
    let need = |v: Option<f64>, what: &str| v.ok_or_else(|| anyhow::anyhow!("no {what} recorded for round {round}"));
    let (judging, round_wall) = (need(judging, "judging window")?, need(round_wall, "round finish")?);
    Ok(SagaReport {
        prompts: n,
        samples_per_prompt: k,
        batch: args.batch,
        prefetch: args.prefetch,
        pairs_per_message: args.pairs_per_message,
        samples,
        judge_tasks: judgments,
        judge_per_s_judging_window: judgments as f64 / judging,
        judge_per_s_round: judgments as f64 / round_wall,
        judging_window_s: judging,
        generation_window_s: need(generation, "generation window")?,
        first_judgment_s: need(first_judgment, "first judgment")?,
        round_wall_s: round_wall,
        barrier_train_queued_s: queued,
        barrier_train_claimed_s: claimed,
        barrier_last_pair_train_queued_s: after_pairs,
        campaign_client_s,
    })
}
