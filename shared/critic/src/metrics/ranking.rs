//! Model-level ranking agreement: Kendall's tau-b between two model -> score maps (e.g. the judge's
//! mean score or Elo per model against the reference judge's or the human ranking).

use super::{MetricError, kendall_tau_b};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankingAgreement {
    pub tau: f64,
    /// Models present in both maps (the ones compared).
    pub models: usize,
    /// Models present in only one of the maps (left out).
    pub left_out: usize,
}

/// Kendall's tau-b over the models the two maps share.
pub fn ranking_kendall(a: &BTreeMap<String, f64>, b: &BTreeMap<String, f64>) -> Result<RankingAgreement, MetricError> {
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (model, &score) in a {
        if let Some(&other) = b.get(model) {
            x.push(score);
            y.push(other);
        }
    }
    let shared = x.len();
    let left_out = a.len() + b.len() - 2 * shared;
    let tau = kendall_tau_b(&x, &y)?;
    Ok(RankingAgreement { tau, models: shared, left_out })
}
