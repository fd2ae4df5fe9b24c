//! Rewards from ordered-pair judgments (METHOD.md section 3).
//!
//! For the ordered pair (i, j), response i shown first, `a_ij` is the relative score of y_j against y_i,
//! in [-1, 1], positive when y_j (shown second) is better:
//! - pairwise verdicts: +1 second better, -1 first better, 0 tie;
//! - WildVision's graded verdicts (-2..=2, positive = second better): value / 2;
//! - two scores s_i, s_j (a `ScorePair` verdict, or two pointwise judgments): see
//!   [`pointwise_relative_score`].
//!
//! Then `r_i = sum_k a_ki - sum_l a_il`: how much better y_i was judged when shown second, plus how much
//! worse the other was when y_i was shown first.

use crate::verdict::Verdict;

/// a_ij for a verdict on the ordered pair (i, j); `None` for a lone pointwise score (which needs the
/// other response's score, see [`pointwise_relative_score`]) and for out-of-range values.
pub fn relative_score(verdict: &Verdict) -> Option<f64> {
    match *verdict {
        Verdict::First => Some(-1.0),
        Verdict::Second => Some(1.0),
        Verdict::Tie => Some(0.0),
        Verdict::Graded { value } if (-2..=2).contains(&value) => Some(f64::from(value) / 2.0),
        Verdict::Graded { .. } => None,
        Verdict::ScorePair { first, second } => pointwise_relative_score(first, second),
        Verdict::Score { .. } => None,
    }
}

/// a_ij from two pointwise scores, s_i for y_i (shown first) and s_j for y_j:
/// `a_ij = (s_j - s_i) / (s_j + s_i)`, and 0 when both are 0.
///
/// METHOD.md defines a_ij as "the score of y_j normalised by that of y_i". criticloop's choice is this
/// bounded, antisymmetric function of that ratio: with rho = s_j / s_i, a_ij = (rho - 1) / (rho + 1).
/// It is 0 for equal scores, in [-1, 1] like the pairwise verdicts, a_ji = -a_ij (so judging both
/// orders cancels nothing that should stay), and does not change when both scores are rescaled
/// (MM-Vet's 0-1 and the critic's 0-100 give the same a_ij for the same relative quality). Scores must
/// be finite and non-negative (every format's scale starts at 0 or 1); otherwise `None`.
pub fn pointwise_relative_score(s_i: f64, s_j: f64) -> Option<f64> {
    if !(s_i.is_finite() && s_j.is_finite() && s_i >= 0.0 && s_j >= 0.0) {
        return None;
    }
    let sum = s_i + s_j;
    if sum == 0.0 { Some(0.0) } else { Some((s_j - s_i) / sum) }
}

/// All ordered pairs `(i, j, a_ij)` from per-response pointwise scores (`None` = unparsed, skipped).
pub fn pointwise_pairs(scores: &[Option<f64>]) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for (i, s_i) in scores.iter().enumerate() {
        for (j, s_j) in scores.iter().enumerate() {
            if i == j {
                continue;
            }
            if let (Some(s_i), Some(s_j)) = (s_i, s_j)
                && let Some(a) = pointwise_relative_score(*s_i, *s_j)
            {
                out.push((i, j, a));
            }
        }
    }
    out
}

/// r_i for K responses from the judged ordered pairs `(i, j, a_ij)`; missing or unparsed pairs add
/// nothing, and so do pairs with an index out of range, i == j, or a non-finite a_ij.
pub fn rewards(k: usize, scores: &[(usize, usize, f64)]) -> Vec<f64> {
    let mut r = vec![0.0; k];
    for &(i, j, a) in scores {
        if i < k && j < k && i != j && a.is_finite() {
            r[j] += a;
            r[i] -= a;
        }
    }
    r
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PairChoice {
    pub chosen: usize,
    pub rejected: usize,
}

/// The best and worst response by reward. Ties go to the lowest index for the chosen and the highest
/// index for the rejected, so the choice is deterministic; all-equal rewards (or fewer than two, or any
/// NaN) give no pair.
pub fn best_worst(rewards: &[f64]) -> Option<PairChoice> {
    if rewards.len() < 2 || rewards.iter().any(|r| r.is_nan()) {
        return None;
    }
    let (mut best, mut worst) = (0usize, 0usize);
    let (mut max, mut min) = (rewards[0], rewards[0]);
    for (i, &r) in rewards.iter().enumerate() {
        if r > max {
            (best, max) = (i, r);
        }
        if r <= min {
            (worst, min) = (i, r);
        }
    }
    (max != min).then_some(PairChoice { chosen: best, rejected: worst })
}
