//! How well a judge agrees with a reference judge (METHOD.md section 4): correlations of scores,
//! pairwise accuracy, Elo ratings from battles with bootstrap intervals, and model-ranking agreement.
//! All deterministic; the bootstrap uses its own seeded [`SplitMix64`].

mod accuracy;
mod bootstrap;
mod correlation;
mod elo;
mod rank;
mod ranking;
mod rng;

pub use accuracy::{Fraction, PairwiseAccuracy, pairwise_accuracy};
pub use bootstrap::{Bootstrap, EloReport, RatingInterval, elo_with_intervals};
pub use correlation::{kendall_tau_b, pearson, spearman};
pub use elo::{Anchor, Battle, EloConfig, EloError, Winner, mle_elo};
pub use rank::average_ranks;
pub use ranking::{RankingAgreement, ranking_kendall};
pub use rng::SplitMix64;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricError {
    #[error("inputs differ in length: {left} vs {right}")]
    LengthMismatch { left: usize, right: usize },
    #[error("need at least {need} observations, got {got}")]
    TooFew { got: usize, need: usize },
    #[error("input contains a NaN or infinite value")]
    NonFinite,
    /// One side is constant, so the correlation is undefined (scipy returns NaN with a warning).
    #[error("an input is constant, so the correlation is undefined")]
    Constant,
}

pub(crate) fn check_pair(x: &[f64], y: &[f64], need: usize) -> Result<(), MetricError> {
    if x.len() != y.len() {
        return Err(MetricError::LengthMismatch { left: x.len(), right: y.len() });
    }
    if x.len() < need {
        return Err(MetricError::TooFew { got: x.len(), need });
    }
    if x.iter().chain(y).any(|v| !v.is_finite()) {
        return Err(MetricError::NonFinite);
    }
    Ok(())
}
