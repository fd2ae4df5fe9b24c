//! The critic references that name no model: the controls of a learning experiment. A campaign whose
//! `critic.checkpoint` is [`ORACLE`] trains on oracle pairs (judged by a generated world's ground truth),
//! one whose checkpoint is [`RANDOM`] on random pairs; the judging worker answers them itself
//! (`backend_tch::baseline`).

/// Judges by the prompt's ground truth.
pub const ORACLE: &str = "baseline:oracle";
/// Judges at random (the same verdict for the same pair).
pub const RANDOM: &str = "baseline:random";

/// Whether `reference` is in the baselines' namespace (`baseline:...`): no model critic can load it.
pub fn is_baseline(reference: &str) -> bool {
    reference.trim().starts_with("baseline:")
}

#[cfg(test)]
mod tests {
    #[test]
    fn baselines_are_recognised_by_their_namespace() {
        assert!(super::is_baseline(super::ORACLE) && super::is_baseline(super::RANDOM));
        assert!(super::is_baseline(" baseline:other"));
        assert!(!super::is_baseline("/models/baseline:oracle") && !super::is_baseline("sha256:ab"));
    }
}
