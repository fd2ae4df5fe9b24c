//! `criticloop judge`: judge jobs (backlogs) on the API. `submit` streams a JSONL file of items,
//! `watch` follows progress with rate and ETA, `results` streams the judged items out as JSONL,
//! `metrics` prints the agreement metrics, `list` and `cancel` manage jobs.

use crate::Client;
use crate::campaign::text;
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, clap::Subcommand)]
pub enum JudgeCommand {
    /// Submit a JSONL file of judge items (see README, "Judge-job items").
    Submit {
        file: PathBuf,
        /// The critic checkpoint that judges the items.
        #[arg(long)]
        critic: String,
        /// 0 (lowest) to 9 (highest); each step doubles the job's share while jobs wait.
        #[arg(long, default_value_t = 4)]
        priority: u8,
        #[arg(long)]
        name: Option<String>,
        /// Template for items that name none.
        #[arg(long)]
        template: Option<String>,
        /// Follow the job until it completes.
        #[arg(long)]
        watch: bool,
    },
    /// Follow a job's progress until it completes.
    Watch {
        id: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 1.0)]
        interval: f64,
    },
    /// Stream a job's judged items as JSONL (stdout, or --output).
    Results {
        id: String,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// A scored job's agreement metrics as JSON.
    Metrics {
        id: String,
    },
    List,
    Cancel {
        id: String,
    },
}

pub async fn run(cmd: JudgeCommand, client: &Client) -> anyhow::Result<()> {
    match cmd {
        JudgeCommand::Submit { file, critic, priority, name, template, watch } => {
            anyhow::ensure!(priority <= 9, "--priority must be 0 to 9, not {priority}");
            let meta = std::fs::metadata(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            anyhow::ensure!(meta.is_file(), "{} is not a file", file.display());
            let mut query = vec![("critic", critic), ("priority", priority.to_string())];
            query.extend(name.map(|n| ("name", n)));
            query.extend(template.map(|t| ("template", t)));
            let path = format!("/v1/judge-jobs?{}", encode(&query));
            let job = client.post_file(&path, &file, "application/x-ndjson").await?;
            let id = text(&job["id"]);
            println!("judge job {id}: {} items, priority {}", text(&job["items_total"]), text(&job["priority"]));
            if watch {
                follow(client, &id, 1.0).await?;
            }
            Ok(())
        }
        JudgeCommand::Watch { id, interval } => follow(client, &id, interval).await,
        JudgeCommand::Results { id, output } => results(client, &id, output).await,
        JudgeCommand::Metrics { id } => {
            let m = client.get(&format!("/v1/judge-jobs/{id}/metrics")).await?;
            println!("{}", serde_json::to_string_pretty(&m["metrics"])?);
            Ok(())
        }
        JudgeCommand::List => {
            let jobs = client.get("/v1/judge-jobs").await?;
            println!("{:<38} {:<10} {:>3} {:>17}  name", "id", "state", "pri", "settled/total");
            for j in jobs["judge_jobs"].as_array().into_iter().flatten() {
                let settled = j["items_judged"].as_i64().unwrap_or(0) + j["items_failed"].as_i64().unwrap_or(0);
                println!(
                    "{:<38} {:<10} {:>3} {:>17}  {}",
                    text(&j["id"]),
                    text(&j["state"]),
                    text(&j["priority"]),
                    format!("{settled}/{}", text(&j["items_total"])),
                    j["name"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        JudgeCommand::Cancel { id } => {
            let j = client.post(&format!("/v1/judge-jobs/{id}/cancel"), &Value::Null).await?;
            println!("judge job {id}: {}", text(&j["state"]));
            Ok(())
        }
    }
}

fn encode(pairs: &[(&str, String)]) -> String {
    let escape = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs.iter().map(|(k, v)| format!("{k}={}", escape(v))).collect::<Vec<_>>().join("&")
}

async fn results(client: &Client, id: &str, output: Option<PathBuf>) -> anyhow::Result<()> {
    let mut resp = client.get_stream(&format!("/v1/judge-jobs/{id}/results")).await?;
    let mut out: Box<dyn Write> = match &output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut lines = 0usize;
    while let Some(chunk) = resp.chunk().await.map_err(|e| anyhow::anyhow!("the results stream broke off: {e}"))? {
        lines += chunk.iter().filter(|&&b| b == b'\n').count();
        out.write_all(&chunk)?;
    }
    out.flush()?;
    if let Some(p) = output {
        eprintln!("{lines} results written to {}", p.display());
    }
    Ok(())
}

/// Polls the job and draws one progress line (in place on a terminal) until it completes.
async fn follow(client: &Client, id: &str, interval: f64) -> anyhow::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let pause = Duration::from_secs_f64(interval.clamp(0.05, 3600.0));
    let mut first: Option<(Instant, i64)> = None;
    let (mut last, mut last_key) = (String::new(), String::new());
    let job = loop {
        let job = client.get(&format!("/v1/judge-jobs/{id}")).await?;
        let total = job["items_total"].as_i64().unwrap_or(0);
        let settled = job["items_judged"].as_i64().unwrap_or(0) + job["items_failed"].as_i64().unwrap_or(0);
        let (t0, s0) = *first.get_or_insert((Instant::now(), settled));
        let secs = t0.elapsed().as_secs_f64();
        let rate = if secs > 0.05 { (settled - s0) as f64 / secs } else { 0.0 };
        let eta = if settled >= total {
            "done".to_string()
        } else if rate > 0.0 {
            format!("ETA {:.0}s", (total - settled) as f64 / rate)
        } else {
            "ETA -".to_string()
        };
        let width = 30usize;
        let filled = if total > 0 { (settled as usize * width) / total as usize } else { 0 };
        let line = format!(
            "[{}{}] {settled}/{total} items ({} failed) {rate:.0} items/s {eta} {}",
            "#".repeat(filled),
            "-".repeat(width - filled),
            text(&job["items_failed"]),
            text(&job["state"])
        );
        // on a terminal every poll redraws (the rate moves); otherwise print only when counts change
        let key = format!("{settled} {}", job["state"]);
        if (tty && line != last) || (!tty && key != last_key) {
            last_key = key;
            let mut out = std::io::stdout().lock();
            if tty {
                write!(out, "\r\x1b[2K{line}")?;
            } else {
                writeln!(out, "{line}")?;
            }
            out.flush()?;
            last = line;
        }
        if matches!(job["state"].as_str(), Some("completed" | "cancelled")) {
            break job;
        }
        tokio::time::sleep(pause).await;
    };
    if tty {
        println!();
    }
    println!("judge job {id}: {}", text(&job["state"]));
    Ok(())
}
