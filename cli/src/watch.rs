//! `criticloop campaign watch ID`: one progress line per stage, redrawn in place on a terminal,
//! printed when it changes otherwise.

use crate::Client;
use crate::campaign::text;
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const STAGES: [(&str, &str); 3] =
    [("sampling", "sampling_done"), ("judging", "judging_done"), ("aggregating", "aggregating_done")];

/// Where a stage's count was when first seen, for the rate.
struct Start {
    round: i64,
    at: Instant,
    done: [i64; 3],
}

pub async fn run(client: &Client, id: &str, interval: f64) -> anyhow::Result<()> {
    let tty = std::io::stdout().is_terminal();
    let pause = Duration::from_secs_f64(interval.clamp(0.05, 3600.0));
    let mut start: Option<Start> = None;
    let mut drawn = 0usize;
    let mut last = Vec::new();
    let mut last_key = String::new();
    let view = loop {
        let view = client.get(&format!("/v1/campaigns/{id}")).await?;
        let (key, lines) = render(&view, &mut start);
        // On a terminal every poll redraws (rates move); otherwise print only when the counts change.
        if (tty && lines != last) || key != last_key {
            last_key = key;
            let mut out = std::io::stdout().lock();
            if tty && drawn > 0 {
                write!(out, "\x1b[{drawn}A")?;
            }
            for l in &lines {
                if tty {
                    write!(out, "\x1b[2K")?;
                }
                writeln!(out, "{l}")?;
            }
            out.flush()?;
            drawn = lines.len();
            last = lines;
        }
        if matches!(view["state"].as_str(), Some("completed" | "failed" | "cancelled")) {
            break view;
        }
        tokio::time::sleep(pause).await;
    };
    let state = text(&view["state"]);
    println!("campaign {id}: {state}");
    anyhow::ensure!(state == "completed", "campaign {id} ended {state}: {}", text(&view["failure_reason"]));
    Ok(())
}

/// (what changed: round, states and counts; the lines to show).
fn render(view: &Value, start: &mut Option<Start>) -> (String, Vec<String>) {
    let Some(round) = view["rounds"].as_array().and_then(|r| r.last()) else {
        let line = format!("campaign {}: waiting for its first round", text(&view["state"]));
        return (line.clone(), vec![line]);
    };
    let number = round["number"].as_i64().unwrap_or(0);
    let total = round["prompts_total"].as_i64().unwrap_or(0);
    let done: [i64; 3] = STAGES.map(|(_, key)| round["progress"][key].as_i64().unwrap_or(0));
    if start.as_ref().is_none_or(|s| s.round != number) {
        *start = Some(Start { round: number, at: Instant::now(), done });
    }
    let key = format!("{number} {} {} {} {done:?}", round["state"], round["paused"], view["state"]);
    let Some(s) = start.as_ref() else { return (key, Vec::new()) };
    let secs = s.at.elapsed().as_secs_f64();
    let mut lines = vec![format!(
        "round {number}/{} {}{} (campaign {})",
        text(&view["rounds_total"]),
        text(&round["state"]),
        if round["paused"] == true { ", paused" } else { "" },
        text(&view["state"]),
    )];
    for (i, (name, _)) in STAGES.iter().enumerate() {
        let rate = if secs > 0.05 { (done[i] - s.done[i]) as f64 / secs } else { 0.0 };
        let eta = if done[i] >= total {
            "done".to_string()
        } else if rate > 0.0 {
            format!("ETA {:.0}s", (total - done[i]) as f64 / rate)
        } else {
            "ETA -".to_string()
        };
        lines.push(format!("  {name:<11} {:>7}/{total:<7} {rate:>8.1} prompts/s  {eta}", done[i]));
    }
    (key, lines)
}
