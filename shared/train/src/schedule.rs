//! Learning-rate schedules with linear warm-up, as transformers' `get_scheduler` computes them
//! (`optimization.py`): the factor for optimizer step `s` (0-based) of `total`, after `warmup` steps.

use crate::config::Schedule;

/// Warm-up steps as transformers counts them: an explicit count, else `ceil(total * ratio)`.
pub fn warmup_steps(total: u64, steps: u64, ratio: f64) -> u64 {
    if steps > 0 { steps } else { (total as f64 * ratio).ceil() as u64 }
}

/// The multiplier of the base learning rate at step `step`.
pub fn lr_factor(schedule: Schedule, step: u64, warmup: u64, total: u64) -> f64 {
    if step < warmup {
        return step as f64 / warmup.max(1) as f64;
    }
    match schedule {
        Schedule::Constant => 1.0,
        Schedule::Linear => (total.saturating_sub(step) as f64 / total.saturating_sub(warmup).max(1) as f64).max(0.0),
        Schedule::Cosine => {
            let progress = (step - warmup) as f64 / total.saturating_sub(warmup).max(1) as f64;
            (0.5 * (1.0 + (std::f64::consts::PI * progress).cos())).max(0.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_warms_up_then_decays_to_zero() {
        let f: Vec<f64> = (0..6).map(|s| lr_factor(Schedule::Linear, s, 2, 6)).collect();
        assert_eq!(f, vec![0.0, 0.5, 1.0, 0.75, 0.5, 0.25]);
    }

    #[test]
    fn cosine_is_half_at_midpoint_and_ratio_rounds_up() {
        assert_eq!(warmup_steps(10, 0, 0.1), 1);
        assert_eq!(warmup_steps(11, 0, 0.1), 2);
        assert_eq!(warmup_steps(11, 3, 0.1), 3);
        assert!((lr_factor(Schedule::Cosine, 6, 2, 10) - 0.5).abs() < 1e-12);
        assert_eq!(lr_factor(Schedule::Cosine, 2, 2, 10), 1.0);
        assert_eq!(lr_factor(Schedule::Constant, 9, 2, 10), 1.0);
    }
}
