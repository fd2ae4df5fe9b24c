//! Agreement reports: every metric of a judge's predictions against labels, as one JSON object. The
//! `criticloop metrics` command and the evaluation worker (judge-job metrics) both produce these.
//! A metric that cannot be computed (too few items, a constant side) appears as `{"error": ...}`.

use crate::Preference;
use crate::metrics::{self, Battle, Bootstrap, EloConfig, Winner};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A pointwise prediction: the judge's score (`None`: unparsed), the label score, the response's model.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredItem<'a> {
    pub score: Option<f64>,
    pub label: f64,
    pub model: Option<&'a str>,
}

/// A pairwise prediction (`None`: unparsed), its label, and the two responses' models.
#[derive(Debug, Clone, PartialEq)]
pub struct JudgedPair<'a> {
    pub prediction: Option<Preference>,
    pub label: Preference,
    pub models: Option<(&'a str, &'a str)>,
}

fn value_of<T: serde::Serialize>(r: Result<T, impl std::fmt::Display>) -> Value {
    match r {
        Ok(v) => serde_json::to_value(v).unwrap_or(Value::Null),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// Pearson, Spearman and Kendall's tau-b of scores against labels; with models, the models' mean
/// scores by judge and by label and the Kendall tau of the two rankings.
pub fn pointwise_report(rows: &[ScoredItem<'_>]) -> Value {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut unparsed = 0;
    let mut by_model: BTreeMap<&str, (Vec<f64>, Vec<f64>)> = BTreeMap::new();
    for row in rows {
        let Some(score) = row.score else {
            unparsed += 1;
            continue;
        };
        x.push(score);
        y.push(row.label);
        if let Some(model) = row.model {
            let e = by_model.entry(model).or_default();
            e.0.push(score);
            e.1.push(row.label);
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
        let judge: BTreeMap<String, f64> = by_model.iter().map(|(m, (s, _))| (m.to_string(), mean(s))).collect();
        let label: BTreeMap<String, f64> = by_model.iter().map(|(m, (_, l))| (m.to_string(), mean(l))).collect();
        report["models"] = json!({
            "judge_mean_score": judge, "label_mean_score": label,
            "ranking_kendall": value_of(metrics::ranking_kendall(&judge, &label)),
        });
    }
    report
}

fn winner(p: Preference) -> Winner {
    match p {
        Preference::First => Winner::A,
        Preference::Second => Winner::B,
        Preference::Tie => Winner::Tie,
    }
}

/// Accuracy with and without ties; with models, MLE Elo ratings by judge and by label with bootstrap
/// intervals, and the Kendall tau of the two model rankings.
pub fn pairwise_report(rows: &[JudgedPair<'_>], bootstrap: &Bootstrap) -> Value {
    let items: Vec<(Option<Preference>, Preference)> = rows.iter().map(|r| (r.prediction, r.label)).collect();
    let mut report = json!({ "mode": "pairwise", "items": rows.len() });
    let acc = metrics::pairwise_accuracy(&items);
    report["accuracy_with_ties"] = json!(acc.with_ties.value());
    report["accuracy_without_ties"] = json!(acc.without_ties.value());
    report["counts"] = serde_json::to_value(acc).unwrap_or(Value::Null);
    let battles: Vec<(&str, &str, Option<Preference>, Preference)> =
        rows.iter().filter_map(|r| r.models.map(|(a, b)| (a, b, r.prediction, r.label))).collect();
    if !battles.is_empty() {
        let config = EloConfig::default();
        let judged: Vec<Battle> = battles
            .iter()
            .filter_map(|(a, b, p, _)| p.map(|p| Battle { model_a: a, model_b: b, winner: winner(p) }))
            .collect();
        let labelled: Vec<Battle> =
            battles.iter().map(|(a, b, _, l)| Battle { model_a: a, model_b: b, winner: winner(*l) }).collect();
        let ranking = match (metrics::mle_elo(&judged, &config), metrics::mle_elo(&labelled, &config)) {
            (Ok(j), Ok(l)) => value_of(metrics::ranking_kendall(&j, &l)),
            _ => Value::Null,
        };
        report["elo"] = json!({
            "judge": value_of(metrics::elo_with_intervals(&judged, &config, bootstrap)),
            "labels": value_of(metrics::elo_with_intervals(&labelled, &config, bootstrap)),
            "ranking_kendall": ranking,
        });
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_report_counts_unparsed_as_misses() {
        let rows = [
            JudgedPair { prediction: Some(Preference::First), label: Preference::First, models: None },
            JudgedPair { prediction: Some(Preference::Tie), label: Preference::Second, models: None },
            JudgedPair { prediction: None, label: Preference::Tie, models: None },
            JudgedPair { prediction: Some(Preference::Tie), label: Preference::Tie, models: None },
        ];
        let report = pairwise_report(&rows, &Bootstrap::default());
        assert_eq!(report["accuracy_with_ties"], json!(0.5));
        assert_eq!(report["accuracy_without_ties"], json!(0.5));
        assert!(report.get("elo").is_none());
    }

    #[test]
    fn pointwise_report_names_what_cannot_be_computed() {
        let rows = [ScoredItem { score: Some(1.0), label: 2.0, model: None }];
        let report = pointwise_report(&rows);
        assert!(report["pearson"]["error"].as_str().is_some_and(|e| e.contains("at least")));
    }
}
