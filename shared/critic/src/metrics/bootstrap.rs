//! Bootstrap confidence intervals for MLE Elo, as Chatbot Arena computes them: resample the battles
//! with replacement, refit, and take percentiles (numpy's linear interpolation) of each model's rating.
//! Seeded with [`SplitMix64`], so a given seed always gives the same intervals.

use super::elo::{self, Battle, EloConfig, EloError, mle_elo, model_names};
use super::rng::SplitMix64;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub rounds: usize,
    pub seed: u64,
    /// Central interval mass, e.g. 0.95 for the 2.5th and 97.5th percentiles.
    pub confidence: f64,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap { rounds: 1000, seed: 0, confidence: 0.95 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingInterval {
    pub model: String,
    /// The MLE rating on all battles.
    pub rating: f64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EloReport {
    /// Sorted by rating, highest first (ties by name).
    pub ratings: Vec<RatingInterval>,
    /// Bootstrap rounds fitted.
    pub rounds: usize,
    /// Rounds whose resample could not be fitted (a model missing from it, or ratings not
    /// identifiable on it); they are left out of the percentiles.
    pub skipped: usize,
}

/// MLE Elo on all battles plus bootstrap percentile intervals.
pub fn elo_with_intervals(
    battles: &[Battle<'_>],
    config: &EloConfig,
    bootstrap: &Bootstrap,
) -> Result<EloReport, EloError> {
    if !(bootstrap.confidence > 0.0 && bootstrap.confidence < 1.0) {
        return Err(EloError::InvalidConfig("confidence must be in (0, 1)"));
    }
    let point = mle_elo(battles, config)?;
    let models = model_names(battles);
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(bootstrap.rounds); models.len()];
    let mut rng = SplitMix64::new(bootstrap.seed);
    let mut skipped = 0;
    // Resampling draws battle indices exactly as a resample of `battles` would; each round's win matrix
    // is built from pre-indexed battles. A round where some model has no battle is skipped (its ratings
    // are not identifiable), as fitting the resample by names would.
    let indexed = elo::indexed(battles, &models);
    let mut wins = vec![vec![0.0; models.len()]; models.len()];
    let mut present = vec![false; models.len()];
    for _ in 0..bootstrap.rounds {
        wins.iter_mut().for_each(|row| row.fill(0.0));
        present.fill(false);
        for _ in 0..battles.len() {
            if let Some((a, b, winner)) = indexed[rng.below(battles.len())] {
                elo::add_battle(&mut wins, a, b, winner);
                present[a] = true;
                present[b] = true;
            }
        }
        let fit = if present.iter().all(|p| *p) { elo::ratings_from_wins(&models, &wins, config).ok() } else { None };
        match fit {
            Some(fit) => {
                for (slot, rating) in samples.iter_mut().zip(fit.values()) {
                    slot.push(*rating);
                }
            }
            None => skipped += 1,
        }
    }
    let fitted = bootstrap.rounds - skipped;
    if fitted == 0 {
        return Err(EloError::BootstrapFailed { rounds: bootstrap.rounds });
    }
    let tail = (1.0 - bootstrap.confidence) / 2.0;
    let mut ratings: Vec<RatingInterval> = point
        .into_iter()
        .zip(samples.iter_mut())
        .map(|((model, rating), s)| {
            s.sort_by(f64::total_cmp);
            RatingInterval { model, rating, lower: percentile(s, tail), upper: percentile(s, 1.0 - tail) }
        })
        .collect();
    ratings.sort_by(|a, b| b.rating.total_cmp(&a.rating).then_with(|| a.model.cmp(&b.model)));
    Ok(EloReport { ratings, rounds: fitted, skipped })
}

/// numpy.percentile's default ("linear") on sorted, non-empty data, q in [0, 1].
fn percentile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = pos - lo as f64;
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;
    use crate::metrics::Winner;

    /// The indexed bootstrap gives exactly what fitting each resample by names gives.
    #[test]
    fn indexed_resampling_equals_fitting_resamples_by_name() {
        let names = ["a", "b", "c", "d"];
        let mut rng = SplitMix64::new(7);
        let battles: Vec<Battle> = (0..300)
            .map(|_| {
                let a = names[rng.below(4)];
                let b = names[rng.below(4)];
                let winner = [Winner::A, Winner::B, Winner::Tie][rng.below(3)];
                Battle { model_a: a, model_b: b, winner }
            })
            .collect();
        let config = EloConfig::default();
        let bootstrap = Bootstrap { rounds: 50, seed: 3, confidence: 0.9 };
        let report = elo_with_intervals(&battles, &config, &bootstrap).expect("fits");

        let models = model_names(&battles);
        let mut rng = SplitMix64::new(bootstrap.seed);
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); models.len()];
        for _ in 0..bootstrap.rounds {
            let resample: Vec<Battle> = (0..battles.len()).map(|_| battles[rng.below(battles.len())]).collect();
            if let Ok(fit) = mle_elo(&resample, &config)
                && fit.len() == models.len()
            {
                for (slot, r) in samples.iter_mut().zip(fit.values()) {
                    slot.push(*r);
                }
            }
        }
        for interval in &report.ratings {
            let i = models.iter().position(|m| *m == interval.model).expect("a known model");
            let s = &mut samples[i];
            s.sort_by(f64::total_cmp);
            assert_eq!(interval.lower, percentile(s, 0.05), "{}", interval.model);
            assert_eq!(interval.upper, percentile(s, 0.95), "{}", interval.model);
        }
        assert_eq!(report.rounds, samples[0].len());
    }
}
