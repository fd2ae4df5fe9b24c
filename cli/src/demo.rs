//! `criticloop demo`: a campaign end to end, on a local cluster it starts (default) or on a running
//! API (`--api-url`, as compose's `demo` service does).

use crate::Client;
use devcluster::{Cluster, ClusterOptions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Prompts in the demo dataset.
    #[arg(long, default_value_t = 200)]
    pub prompts: usize,
    /// Rounds of sample -> judge -> train -> evaluate.
    #[arg(long, default_value_t = 3)]
    pub rounds: u32,
    /// Responses sampled per prompt (K).
    #[arg(long, default_value_t = 5)]
    pub samples: u32,
    /// Keep the local cluster's database after the demo.
    #[arg(long)]
    pub keep: bool,
}

const FAKE_NOTE: &str = "NOTE: this demo runs on the FAKE model backend: responses and critic verdicts are \
deterministic hashes, not model outputs. It shows the job system (saga, queues, exactly-once counts). The \
tch backend runs generation, judging and training, but the small trained policy and critic this demo will \
use are not built yet.";

/// `api_url` and `token` are the global options: with `--api-url` (or `CRITICLOOP_API_URL`) the demo
/// uses that running API instead of starting services locally.
pub async fn run(args: DemoArgs, api_url: Option<String>, token: String) -> anyhow::Result<()> {
    println!("{FAKE_NOTE}\n");
    match api_url {
        Some(url) => {
            let client = Client::new(&url, &token)?;
            campaign(&client, &args).await
        }
        None => {
            println!("starting a local cluster (PostgreSQL 127.0.0.1:5432, RabbitMQ 127.0.0.1:5672) ...");
            let cluster = Cluster::start(ClusterOptions::new("demo")).await?;
            println!("services up; logs in {}", cluster.options.log_dir.join(&cluster.options.name).display());
            let client = Client::new(&cluster.api_url, &cluster.token)?;
            let result = campaign(&client, &args).await;
            if args.keep {
                println!("kept database {}", cluster.database);
            } else {
                cluster.teardown().await?;
            }
            result
        }
    }
}

async fn campaign(client: &Client, args: &DemoArgs) -> anyhow::Result<()> {
    let subjects = ["a red circle", "two blue squares", "a green triangle", "a yellow star", "three dots"];
    let prompts: Vec<Value> = (0..args.prompts)
        .map(|i| json!({"question": format!("Describe the image #{i}: what do you see near {}?", subjects[i % subjects.len()])}))
        .collect();
    let dataset = client.post("/v1/datasets", &json!({"name": "demo prompts", "prompts": prompts})).await?;
    let spec = json!({
        "name": "demo",
        "dataset_id": dataset["id"],
        "rounds": args.rounds,
        "samples_per_prompt": args.samples,
        "policy": {"checkpoint": "fake://policy/demo-base"},
        "critic": {"checkpoint": "fake://critic/demo"},
    });
    let created = client.post("/v1/campaigns", &spec).await?;
    let id = created["id"].as_str().unwrap_or_default().to_string();
    let k = u64::from(args.samples);
    println!(
        "campaign {id}: {} prompts x K={} samples, {} ordered pairs judged per prompt, {} rounds",
        args.prompts,
        k,
        k * (k - 1),
        args.rounds
    );
    let started = Instant::now();
    let mut last = String::new();
    let view = loop {
        let view = client.get(&format!("/v1/campaigns/{id}")).await?;
        let line = progress_line(&view);
        if line != last {
            println!("[{:>6.1}s] {line}", started.elapsed().as_secs_f64());
            last = line;
        }
        if matches!(view["state"].as_str(), Some("completed" | "failed" | "cancelled")) {
            break view;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    summary(&view, started.elapsed());
    anyhow::ensure!(view["state"] == "completed", "campaign ended {}: {}", view["state"], view["failure_reason"]);
    Ok(())
}

fn progress_line(view: &Value) -> String {
    let Some(round) = view["rounds"].as_array().and_then(|r| r.last()) else { return "waiting".into() };
    format!(
        "round {} {:<11} sampled {}/{}  judged {}/{}  aggregated {}/{}  judgments {}  pairs {}",
        round["number"],
        round["state"].as_str().unwrap_or("?"),
        round["progress"]["sampling_done"],
        round["prompts_total"],
        round["progress"]["judging_done"],
        round["prompts_total"],
        round["progress"]["aggregating_done"],
        round["prompts_total"],
        round["counts"]["judgments"],
        round["counts"]["pairs"],
    )
}

/// A JSON value as display text (strings unquoted), so column widths apply.
fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

fn summary(view: &Value, elapsed: Duration) {
    println!("\ncampaign {}: {}", view["id"].as_str().unwrap_or("?"), view["state"].as_str().unwrap_or("?"));
    println!(
        "{:<6} {:<10} {:>8} {:>10} {:>9} {:>6} {:>7}  lineage",
        "round", "state", "samples", "judgments", "unparsed", "pairs", "failed"
    );
    let mut judgments = 0;
    for r in view["rounds"].as_array().into_iter().flatten() {
        judgments += r["counts"]["judgments"].as_i64().unwrap_or(0);
        let short = |v: &Value| v.as_str().map(|s| s[s.len().saturating_sub(8)..].to_string()).unwrap_or("-".into());
        println!(
            "{:<6} {:<10} {:>8} {:>10} {:>9} {:>6} {:>7}  {} -> {}",
            text(&r["number"]),
            text(&r["state"]),
            text(&r["counts"]["samples"]),
            text(&r["counts"]["judgments"]),
            text(&r["counts"]["unparsed_judgments"]),
            text(&r["counts"]["pairs"]),
            text(&r["prompts_failed"]),
            short(&r["base_checkpoint_id"]),
            short(&r["result_checkpoint_id"]),
        );
    }
    let secs = elapsed.as_secs_f64();
    println!(
        "\n{judgments} critic judgments in {secs:.1}s ({:.0}/s end to end, fake backend)",
        judgments as f64 / secs.max(1e-9)
    );
    if let Some(reason) = view["failure_reason"].as_str() {
        println!("failure: {reason}");
    }
}
