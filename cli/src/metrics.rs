//! `criticloop metrics`: agreement of judge predictions with labels (JSONL on stdin) as one JSON
//! object on stdout. Pointwise rows: `{"score", "label", "model"?}`; pairwise rows:
//! `{"prediction", "label", "model_a"?, "model_b"?}` with first / second / tie (a null prediction is
//! unparsed output). With model names it adds model-level rankings (mean score or MLE Elo) and their
//! Kendall tau against the labels' ranking.

use critic::Preference;
use critic::agreement::{self, JudgedPair, ScoredItem};
use critic::metrics::Bootstrap;
use serde_json::{Map, Value};

#[derive(Debug, clap::Args)]
pub struct MetricsArgs {
    /// Bootstrap rounds for Elo confidence intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(args: MetricsArgs) -> anyhow::Result<()> {
    let rows = crate::jsonl::objects(std::io::stdin().lock())?;
    anyhow::ensure!(!rows.is_empty(), "no rows on stdin");
    let report = if rows[0].1.contains_key("prediction") { pairwise(&rows, &args)? } else { pointwise(&rows)? };
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn field<'a>(line: usize, row: &'a Map<String, Value>, name: &str) -> anyhow::Result<&'a Value> {
    row.get(name).ok_or_else(|| anyhow::anyhow!("line {line}: missing field `{name}`"))
}

fn preference(line: usize, v: &Value, name: &str) -> anyhow::Result<Option<Preference>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => match s.to_lowercase().as_str() {
            "first" | "a" | "1" => Ok(Some(Preference::First)),
            "second" | "b" | "2" => Ok(Some(Preference::Second)),
            "tie" => Ok(Some(Preference::Tie)),
            _ => anyhow::bail!("line {line}: `{name}` must be first, second, tie or null, not `{s}`"),
        },
        _ => anyhow::bail!("line {line}: `{name}` must be a string"),
    }
}

fn pointwise(rows: &[(usize, Map<String, Value>)]) -> anyhow::Result<Value> {
    let mut items = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let label = field(*line, row, "label")?
            .as_f64()
            .ok_or_else(|| anyhow::anyhow!("line {line}: `label` must be a number"))?;
        let score = field(*line, row, "score")?.as_f64();
        items.push(ScoredItem { score, label, model: row.get("model").and_then(Value::as_str) });
    }
    Ok(agreement::pointwise_report(&items))
}

fn pairwise(rows: &[(usize, Map<String, Value>)], args: &MetricsArgs) -> anyhow::Result<Value> {
    let mut items = Vec::with_capacity(rows.len());
    for (line, row) in rows {
        let prediction = preference(*line, field(*line, row, "prediction")?, "prediction")?;
        let label = preference(*line, field(*line, row, "label")?, "label")?
            .ok_or_else(|| anyhow::anyhow!("line {line}: `label` must not be null"))?;
        let models = match (row.get("model_a").and_then(Value::as_str), row.get("model_b").and_then(Value::as_str)) {
            (Some(a), Some(b)) => Some((a, b)),
            _ => None,
        };
        items.push(JudgedPair { prediction, label, models });
    }
    let bootstrap = Bootstrap { rounds: args.bootstrap, seed: args.seed, ..Bootstrap::default() };
    Ok(agreement::pairwise_report(&items, &bootstrap))
}
