//! `criticloop demo`: a campaign end to end, on a local cluster it starts (default) or on a running
//! API (`--api-url`, as compose's `demo` service does). With `--policy` and `--critic` it runs the loop
//! on those real models over a generated world and prints the learning table ([`crate::demo_world`]);
//! without, on the fake backend (job-system overhead only, and says so).

use crate::Client;
use crate::demo_world::{self, WorldDemo};
use devcluster::{Cluster, ClusterOptions, Service};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use world::WorldConfig;

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
    /// The policy checkpoint (a Hugging Face folder, e.g. from scripts/world/train_policy) the loop starts
    /// from; with --critic, the demo runs real models on a generated world instead of the fake backend.
    #[arg(long, requires = "critic")]
    pub policy: Option<PathBuf>,
    /// The critic checkpoint (e.g. from scripts/world/train_critic).
    #[arg(long, requires = "policy")]
    pub critic: Option<PathBuf>,
    /// Held-out world rows each round's policy is scored on (with --policy).
    #[arg(long, default_value_t = 100)]
    pub heldout: usize,
    /// DPO's beta (with --policy).
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// DPO's learning rate (with --policy).
    #[arg(long, default_value_t = 2e-5)]
    pub learning_rate: f64,
    /// Seeds the world's prompts and the campaign (with --policy).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Who ranks the samples into pairs (with --policy): the critic (the method), the ground truth (the
    /// oracle upper bound) or random verdicts (the control). The critic judges the held-out answers in
    /// every arm.
    #[arg(long, value_enum, default_value = "critic")]
    pub pairs_from: demo_world::PairsFrom,
    /// The task families of the world's prompts and held-out rows (with --policy): a smaller world for a
    /// quick check, e.g. `colour,describe` with `--max-objects 1`.
    #[arg(long, value_delimiter = ',', default_value = crate::world::ALL_FAMILIES)]
    pub families: Vec<world::Family>,
    /// Most objects in one of the world's scenes (with --policy).
    #[arg(long, default_value_t = 4)]
    pub max_objects: usize,
    /// Also write the learning table as JSON to this file (with --policy).
    #[arg(long, requires = "policy")]
    pub report: Option<PathBuf>,
}

impl DemoArgs {
    fn world(&self) -> Option<WorldDemo<'_>> {
        Some(WorldDemo {
            policy: self.policy.as_deref()?,
            critic: self.critic.as_deref()?,
            prompts: self.prompts,
            heldout: self.heldout,
            rounds: self.rounds,
            samples: self.samples,
            beta: self.beta,
            learning_rate: self.learning_rate,
            seed: self.seed,
            pairs_from: self.pairs_from,
            world: WorldConfig {
                families: self.families.clone(),
                max_objects: self.max_objects,
                ..WorldConfig::default()
            },
        })
    }
}

const FAKE_NOTE: &str = "NOTE: this demo runs on the FAKE model backend: responses and critic verdicts are \
deterministic hashes, not model outputs. It shows the job system (saga, queues, exactly-once counts). For \
real models, pass --policy and --critic (checkpoints from scripts/world/train_policy and train_critic).";

/// `api_url` and `token` are the global options: with `--api-url` (or `CRITICLOOP_API_URL`) the demo
/// uses that running API instead of starting services locally.
pub async fn run(args: DemoArgs, api_url: Option<String>, token: String) -> anyhow::Result<()> {
    if args.world().is_none() {
        println!("{FAKE_NOTE}\n");
    }
    match api_url {
        Some(url) => {
            let client = Client::new(&url, &token)?;
            campaign(&client, &args).await
        }
        None => {
            println!("starting a local cluster (PostgreSQL 127.0.0.1:5432, RabbitMQ 127.0.0.1:5672) ...");
            let mut options = ClusterOptions::new("demo");
            if args.world().is_some() {
                let models = [Service::Generation, Service::Judging, Service::Training, Service::Evaluation];
                options = options.tch(&models, &demo_world::TCH_KEYS);
                options.deadline = Duration::from_secs(12 * 3600);
            }
            let cluster = Cluster::start(options).await?;
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
    let (id, world) = match args.world() {
        Some(demo) => {
            let (id, items) = demo_world::create(client, &demo).await?;
            (id, Some(items))
        }
        None => (fake_campaign(client, args).await?, None),
    };
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
    summary(&view, started.elapsed(), world.is_none());
    if let Some(items) = world {
        let prompts = demo_world::Prompts::new(&items)?;
        let mut quality = HashMap::new();
        for r in view["rounds"].as_array().into_iter().flatten() {
            let n = r["number"].as_u64().unwrap_or(0) as u32;
            let round = format!("/v1/campaigns/{id}/rounds/{n}");
            let pairs = prompts.pair_quality(&client.get_text(&format!("{round}/pairs")).await?)?;
            let judge = prompts.judge_quality(&client.get_text(&format!("{round}/judgments")).await?)?;
            quality.insert(n, demo_world::RoundQuality { pairs, judge });
        }
        println!(
            "\nheld-out scores per round (0: the starting policy), the round's pairs by the ground truth, and the \
             judge's verdicts on all the round's ordered pairs (accuracy without and with ties, position consistency):"
        );
        let rows = demo_world::table(&view, &quality);
        demo_world::print_table(&rows);
        if let Some(path) = &args.report {
            let mut report = demo_world::report(&rows);
            report["campaign"] = json!(id);
            report["state"] = view["state"].clone();
            std::fs::write(path, serde_json::to_string_pretty(&report)?)
                .map_err(|e| anyhow::anyhow!("writing --report {}: {e}", path.display()))?;
            println!("table written to {}", path.display());
        }
    }
    anyhow::ensure!(view["state"] == "completed", "campaign ended {}: {}", view["state"], view["failure_reason"]);
    Ok(())
}

/// The fake demo's campaign: made-up prompts on the fake backend.
async fn fake_campaign(client: &Client, args: &DemoArgs) -> anyhow::Result<String> {
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
    Ok(created["id"].as_str().unwrap_or_default().to_string())
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

fn summary(view: &Value, elapsed: Duration, fake: bool) {
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
        "\n{judgments} critic judgments in {secs:.1}s ({:.0}/s end to end, {} backend)",
        judgments as f64 / secs.max(1e-9),
        if fake { "fake" } else { "tch" }
    );
    if let Some(reason) = view["failure_reason"].as_str() {
        println!("failure: {reason}");
    }
}
