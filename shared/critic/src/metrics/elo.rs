//! Elo ratings by maximum likelihood (Bradley-Terry), as Chatbot Arena's `compute_mle_elo` and
//! WildVision compute them: a logistic regression without intercept on the battles, where a win
//! counts twice for the winner and a tie once for each side (Chatbot Arena duplicates the battle
//! table so that ties are half a win each way). P(a beats b) = 1 / (1 + base^((R_b - R_a) / scale)).
//!
//! The likelihood fixes ratings only up to a common shift. criticloop anchors them either so their
//! mean is `init` ([`Anchor::Mean`], which is what sklearn's unpenalised fit started from zero returns
//! in Chatbot Arena's code when no baseline is present), or so a named baseline model is at `init`
//! ([`Anchor::Model`], Chatbot Arena's `baseline_model`, WildVision's fixed baseline).
//!
//! The MLE is solved by Newton's method with step halving to full double precision, not to a loose
//! optimiser tolerance. It exists only when every model can be reached from every other through
//! "won against or tied with" relations; otherwise some rating is infinite and the fit is an error.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Winner {
    A,
    B,
    Tie,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Battle<'a> {
    pub model_a: &'a str,
    pub model_b: &'a str,
    pub winner: Winner,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// The mean rating is `init`.
    Mean,
    /// This model's rating is `init`.
    Model(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct EloConfig {
    pub scale: f64,
    pub base: f64,
    pub init: f64,
    pub anchor: Anchor,
}

impl Default for EloConfig {
    /// Chatbot Arena's and WildVision's: scale 400, base 10, init 1000, mean anchored at 1000.
    fn default() -> Self {
        EloConfig { scale: 400.0, base: 10.0, init: 1000.0, anchor: Anchor::Mean }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EloError {
    #[error("need battles between at least two models")]
    TooFewModels,
    #[error("the anchor model `{0}` has no battles")]
    UnknownAnchor(String),
    /// Some group of models never lost (or never won) against the rest: their MLE ratings are infinite.
    #[error("ratings are not identifiable: `{0}` is not connected to the others by wins and losses both ways")]
    NotConnected(String),
    #[error("the Newton iteration did not converge")]
    NoConvergence,
    #[error("no bootstrap round could be fitted (of {rounds})")]
    BootstrapFailed { rounds: usize },
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}

/// MLE Elo rating per model (models sorted by name).
pub fn mle_elo(battles: &[Battle<'_>], config: &EloConfig) -> Result<BTreeMap<String, f64>, EloError> {
    if !(config.scale.is_finite() && config.scale > 0.0 && config.base.is_finite() && config.base > 1.0) {
        return Err(EloError::InvalidConfig("scale must be positive and base greater than 1"));
    }
    let models = model_names(battles);
    let wins = win_matrix(battles, &models);
    ratings_from_wins(&models, &wins, config)
}

/// The MLE ratings of `models` given their win matrix (`w[a][b]`: 2 per win of a over b, 1 per tie).
pub(super) fn ratings_from_wins(
    models: &[&str],
    wins: &[Vec<f64>],
    config: &EloConfig,
) -> Result<BTreeMap<String, f64>, EloError> {
    let theta = fit(models, wins, config.base.ln())?;
    let mut ratings: Vec<f64> = theta.iter().map(|t| config.scale * t).collect();
    let shift = match &config.anchor {
        Anchor::Mean => config.init - ratings.iter().sum::<f64>() / ratings.len() as f64,
        Anchor::Model(name) => {
            let idx = models.iter().position(|m| m == name).ok_or_else(|| EloError::UnknownAnchor(name.clone()))?;
            config.init - ratings[idx]
        }
    };
    ratings.iter_mut().for_each(|r| *r += shift);
    Ok(models.iter().map(|m| (*m).to_owned()).zip(ratings).collect())
}

/// Battles as indices into `models` (self-battles and unknown models dropped), so a bootstrap round
/// builds its win matrix without comparing names.
pub(super) fn indexed(battles: &[Battle<'_>], models: &[&str]) -> Vec<Option<(usize, usize, Winner)>> {
    let index = |name: &str| models.binary_search(&name).ok();
    battles
        .iter()
        .map(|b| match (b.model_a != b.model_b, index(b.model_a), index(b.model_b)) {
            (true, Some(a), Some(bb)) => Some((a, bb, b.winner)),
            _ => None,
        })
        .collect()
}

/// Adds one battle to a win matrix: 2 for a win, 1 each for a tie.
pub(super) fn add_battle(w: &mut [Vec<f64>], a: usize, b: usize, winner: Winner) {
    match winner {
        Winner::A => w[a][b] += 2.0,
        Winner::B => w[b][a] += 2.0,
        Winner::Tie => {
            w[a][b] += 1.0;
            w[b][a] += 1.0;
        }
    }
}

pub(super) fn model_names<'a>(battles: &[Battle<'a>]) -> Vec<&'a str> {
    let mut names: Vec<&str> =
        battles.iter().filter(|b| b.model_a != b.model_b).flat_map(|b| [b.model_a, b.model_b]).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// w[a][b]: weight of "a beat b" — 2 per win, 1 per tie each way (Chatbot Arena's doubled table).
fn win_matrix(battles: &[Battle<'_>], models: &[&str]) -> Vec<Vec<f64>> {
    let p = models.len();
    let mut w = vec![vec![0.0; p]; p];
    for (a, b, winner) in indexed(battles, models).into_iter().flatten() {
        add_battle(&mut w, a, b, winner);
    }
    w
}

fn check_connected(models: &[&str], w: &[Vec<f64>]) -> Result<(), EloError> {
    let p = models.len();
    for forward in [true, false] {
        let mut seen = vec![false; p];
        let mut stack = vec![0usize];
        seen[0] = true;
        while let Some(a) = stack.pop() {
            for b in 0..p {
                let edge = if forward { w[a][b] } else { w[b][a] };
                if edge > 0.0 && !seen[b] {
                    seen[b] = true;
                    stack.push(b);
                }
            }
        }
        if let Some(missing) = seen.iter().position(|s| !s) {
            return Err(EloError::NotConnected(models[missing].to_owned()));
        }
    }
    Ok(())
}

fn log_sigmoid(x: f64) -> f64 {
    if x >= 0.0 { -(-x).exp().ln_1p() } else { x - x.exp().ln_1p() }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn log_likelihood(theta: &[f64], w: &[Vec<f64>], c: f64) -> f64 {
    let mut ll = 0.0;
    for (a, row) in w.iter().enumerate() {
        for (b, &wab) in row.iter().enumerate() {
            if wab > 0.0 {
                ll += wab * log_sigmoid(c * (theta[a] - theta[b]));
            }
        }
    }
    ll
}

/// Ratings theta in units of log_base-odds, mean zero. The last model is pinned at 0 during the
/// iteration, which removes the shift freedom and makes the reduced Hessian negative definite.
fn fit(models: &[&str], w: &[Vec<f64>], c: f64) -> Result<Vec<f64>, EloError> {
    let p = models.len();
    if p < 2 {
        return Err(EloError::TooFewModels);
    }
    check_connected(models, w)?;
    let m = p - 1;
    let mut theta = vec![0.0; p];
    let mut ll = log_likelihood(&theta, w, c);
    let mut converged = false;
    for _ in 0..200 {
        let mut grad = vec![0.0; p];
        let mut neg_hess = vec![vec![0.0; p]; p];
        for (a, row) in w.iter().enumerate() {
            for (b, &wab) in row.iter().enumerate() {
                if wab <= 0.0 {
                    continue;
                }
                let s = sigmoid(c * (theta[a] - theta[b]));
                let g = wab * c * (1.0 - s);
                grad[a] += g;
                grad[b] -= g;
                let h = wab * c * c * s * (1.0 - s);
                neg_hess[a][a] += h;
                neg_hess[b][b] += h;
                neg_hess[a][b] -= h;
                neg_hess[b][a] -= h;
            }
        }
        let reduced: Vec<Vec<f64>> = neg_hess[..m].iter().map(|row| row[..m].to_vec()).collect();
        let step = solve_spd(&reduced, &grad[..m]).ok_or(EloError::NoConvergence)?;
        let mut t = 1.0;
        let mut next = theta.clone();
        let mut next_ll;
        loop {
            for i in 0..m {
                next[i] = theta[i] + t * step[i];
            }
            next_ll = log_likelihood(&next, w, c);
            // accept any non-decrease; near the optimum the change is below rounding
            if next_ll >= ll - 1e-12 * ll.abs().max(1.0) || t < 1e-12 {
                break;
            }
            t *= 0.5;
        }
        let moved = step.iter().fold(0.0f64, |mx, s| mx.max((t * s).abs()));
        theta = next;
        ll = next_ll;
        if moved <= 1e-14 * theta.iter().fold(1.0f64, |mx, v| mx.max(v.abs())) {
            converged = true;
            break;
        }
    }
    if !converged || theta.iter().any(|t| !t.is_finite()) {
        return Err(EloError::NoConvergence);
    }
    let mean = theta.iter().sum::<f64>() / p as f64;
    theta.iter_mut().for_each(|t| *t -= mean);
    Ok(theta)
}

/// Solve A x = b for symmetric positive definite A by Cholesky; `None` if A is not positive definite.
fn solve_spd(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - sum;
                if d <= 0.0 || !d.is_finite() {
                    return None;
                }
                l[i][i] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - sum) / l[j][j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| l[i][k] * y[k]).sum();
        y[i] = (b[i] - sum) / l[i][i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| l[k][i] * x[k]).sum();
        x[i] = (y[i] - sum) / l[i][i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn battles(a_wins: usize, b_wins: usize, ties: usize) -> Vec<Battle<'static>> {
        let mut out = Vec::new();
        out.extend((0..a_wins).map(|_| Battle { model_a: "x", model_b: "y", winner: Winner::A }));
        out.extend((0..b_wins).map(|_| Battle { model_a: "x", model_b: "y", winner: Winner::B }));
        out.extend((0..ties).map(|_| Battle { model_a: "y", model_b: "x", winner: Winner::Tie }));
        out
    }

    #[test]
    fn two_models_closed_form() {
        // w_xy = 2 * 15 + 3, w_yx = 2 * 10 + 3: R_x - R_y = 400 log10(w_xy / w_yx)
        let elo = mle_elo(&battles(15, 10, 3), &EloConfig::default()).expect("connected");
        let diff = 400.0 * (33.0f64 / 23.0).log10();
        assert!((elo["x"] - (1000.0 + diff / 2.0)).abs() < 1e-10, "{elo:?}");
        assert!((elo["y"] - (1000.0 - diff / 2.0)).abs() < 1e-10, "{elo:?}");
        let anchored = EloConfig { anchor: Anchor::Model("y".into()), ..EloConfig::default() };
        let elo = mle_elo(&battles(15, 10, 3), &anchored).expect("connected");
        assert!((elo["y"] - 1000.0).abs() < 1e-12 && (elo["x"] - 1000.0 - diff).abs() < 1e-10);
    }

    #[test]
    fn unidentifiable_and_bad_inputs() {
        assert_eq!(mle_elo(&battles(5, 0, 0), &EloConfig::default()), Err(EloError::NotConnected("y".into())));
        // a tie connects both ways
        assert!(mle_elo(&battles(5, 0, 1), &EloConfig::default()).is_ok());
        assert_eq!(mle_elo(&[], &EloConfig::default()), Err(EloError::TooFewModels));
        let missing = EloConfig { anchor: Anchor::Model("z".into()), ..EloConfig::default() };
        assert_eq!(mle_elo(&battles(2, 2, 0), &missing), Err(EloError::UnknownAnchor("z".into())));
    }
}
