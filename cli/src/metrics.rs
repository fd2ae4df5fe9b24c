//! `criticloop metrics`: agreement of judge predictions with labels (JSONL on stdin) as one JSON
//! object on stdout. Pointwise rows: `{"score", "label", "model"?}`; pairwise rows:
//! `{"prediction", "label", "model_a"?, "model_b"?}` with first / second / tie (a null prediction is
//! unparsed output). With model names it adds model-level rankings (mean score or MLE Elo) and their
//! Kendall tau against the labels' ranking.

use critic::Preference;
use critic::metrics::{self, Battle, Bootstrap, EloConfig, Winner};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

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

fn value_of<T: serde::Serialize>(r: Result<T, impl std::fmt::Display>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

fn pointwise(rows: &[(usize, Map<String, Value>)]) -> anyhow::Result<Value> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut unparsed = 0;
    let mut by_model: BTreeMap<String, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for (line, row) in rows {
        let label = field(*line, row, "label")?
            .as_f64()
            .ok_or_else(|| anyhow::anyhow!("line {line}: `label` must be a number"))?;
        let Some(score) = field(*line, row, "score")?.as_f64() else {
            unparsed += 1;
            continue;
        };
        x.push(score);
        y.push(label);
        if let Some(model) = row.get("model").and_then(Value::as_str) {
            let e = by_model.entry(model.to_string()).or_default();
            e.0.push(score);
            e.1.push(label);
        }
    }
    let mut report = json!({
        "mode": "pointwise", "items": rows.len(), "unparsed": unparsed,
        "pearson": value_of(metrics::pearson(&x, &y)),
        "spearman": value_of(metrics::spearman(&x, &y)),
        "kendall_tau_b": value_of(metrics::kendall_tau_b(&x, &y)),
    });
    if !by_model.is_empty() {
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let judge: BTreeMap<String, f64> = by_model.iter().map(|(m, (s, _))| (m.clone(), mean(s))).collect();
        let label: BTreeMap<String, f64> = by_model.iter().map(|(m, (_, l))| (m.clone(), mean(l))).collect();
        report["models"] = json!({
            "judge_mean_score": judge, "label_mean_score": label,
            "ranking_kendall": value_of(metrics::ranking_kendall(&judge, &label)),
        });
    }
    Ok(report)
}

fn winner(p: Preference) -> Winner {
    match p {
        Preference::First => Winner::A,
        Preference::Second => Winner::B,
        Preference::Tie => Winner::Tie,
    }
}

fn pairwise(rows: &[(usize, Map<String, Value>)], args: &MetricsArgs) -> anyhow::Result<Value> {
    let mut items = Vec::new();
    let mut battles: Vec<(String, String, Option<Preference>, Preference)> = Vec::new();
    for (line, row) in rows {
        let prediction = preference(*line, field(*line, row, "prediction")?, "prediction")?;
        let label = preference(*line, field(*line, row, "label")?, "label")?
            .ok_or_else(|| anyhow::anyhow!("line {line}: `label` must not be null"))?;
        items.push((prediction, label));
        if let (Some(a), Some(b)) =
            (row.get("model_a").and_then(Value::as_str), row.get("model_b").and_then(Value::as_str))
        {
            battles.push((a.to_string(), b.to_string(), prediction, label));
        }
    }
    let mut report = json!({ "mode": "pairwise", "items": rows.len() });
    let acc = metrics::pairwise_accuracy(&items);
    report["accuracy_with_ties"] = json!(acc.with_ties.value());
    report["accuracy_without_ties"] = json!(acc.without_ties.value());
    report["counts"] = serde_json::to_value(acc)?;
    if !battles.is_empty() {
        let config = EloConfig::default();
        let bootstrap = Bootstrap { rounds: args.bootstrap, seed: args.seed, ..Bootstrap::default() };
        let judged: Vec<Battle> = battles
            .iter()
            .filter_map(|(a, b, p, _)| p.map(|p| Battle { model_a: a, model_b: b, winner: winner(p) }))
            .collect();
        let labelled: Vec<Battle> =
            battles.iter().map(|(a, b, _, l)| Battle { model_a: a, model_b: b, winner: winner(*l) }).collect();
        let judge_elo = metrics::mle_elo(&judged, &config);
        let label_elo = metrics::mle_elo(&labelled, &config);
        let ranking = match (&judge_elo, &label_elo) {
            (Ok(j), Ok(l)) => value_of(metrics::ranking_kendall(j, l)),
            _ => Value::Null,
        };
        report["elo"] = json!({
            "judge": value_of(metrics::elo_with_intervals(&judged, &config, &bootstrap)),
            "labels": value_of(metrics::elo_with_intervals(&labelled, &config, &bootstrap)),
            "ranking_kendall": ranking,
        });
    }
    Ok(report)
}
