//! Printing: a two-column table per benchmark, and the JSON the final line is made of.

use crate::{raw, saga};
use serde::Serialize;

/// Prints `title` and its rows as an aligned table.
pub fn table(title: &str, rows: &[(&str, String)]) {
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let values = rows.iter().map(|(_, v)| v.len()).max().unwrap_or(0);
    println!("\n{title}");
    println!("{}", "-".repeat(width + values + 3));
    for (k, v) in rows {
        println!("{k:<width$} | {v:>values$}");
    }
}

pub fn rate(per_s: f64) -> String {
    format!("{per_s:.0} /s")
}

pub fn secs(s: f64) -> String {
    if s < 1.0 { format!("{:.1} ms", s * 1e3) } else { format!("{s:.3} s") }
}

pub fn opt_secs(s: Option<f64>) -> String {
    s.map_or_else(|| "n/a".into(), secs)
}

fn json(v: &impl Serialize) -> anyhow::Result<serde_json::Value> {
    Ok(serde_json::to_value(v)?)
}

pub async fn run_raw(args: &raw::Args) -> anyhow::Result<serde_json::Value> {
    let r = raw::run(args).await?;
    r.print();
    json(&r)
}

pub async fn run_saga(args: &saga::Args) -> anyhow::Result<serde_json::Value> {
    let r = saga::run(args).await?;
    r.print();
    json(&r)
}

pub fn run_critic(args: &crate::critic::Args) -> anyhow::Result<serde_json::Value> {
    let r = crate::critic::run(args)?;
    r.print();
    json(&r)
}

pub async fn run_backlog(args: &crate::backlog::Args) -> anyhow::Result<serde_json::Value> {
    let r = crate::backlog::run(args).await?;
    r.print();
    json(&r)
}
