//! Metrics that need no Python oracle: pairwise accuracy and the Elo bootstrap.

use criticloop_critic as critic;

use critic::Preference::{First, Second, Tie};
use critic::metrics::{
    Battle, Bootstrap, EloConfig, EloError, Fraction, SplitMix64, Winner, average_ranks, elo_with_intervals, mle_elo,
    pairwise_accuracy,
};

#[test]
fn metrics_accuracy_with_and_without_ties() {
    let acc = pairwise_accuracy(&[
        (Some(First), First),   // hit
        (Some(Second), First),  // miss
        (Some(Tie), Tie),       // hit, dropped without ties
        (Some(First), Tie),     // miss, dropped without ties
        (Some(Tie), Second),    // miss: a tie on a non-tie pair
        (None, Second),         // unparsed: miss
        (Some(Second), Second), // hit
    ]);
    assert_eq!(acc.with_ties, Fraction { hits: 3, total: 7 });
    assert_eq!(acc.without_ties, Fraction { hits: 2, total: 5 });
    assert_eq!(acc.unparsed, 1);
    assert_eq!(acc.without_ties.value(), Some(0.4));
    assert_eq!(pairwise_accuracy(&[]).with_ties.value(), None);
}

#[test]
fn metrics_average_ranks_like_rankdata() {
    assert_eq!(average_ranks(&[10.0, 20.0, 10.0, 30.0, 20.0, 20.0]), vec![1.5, 4.0, 1.5, 6.0, 4.0, 4.0]);
}

fn battles(rng: &mut SplitMix64, n: usize) -> Vec<Battle<'static>> {
    const MODELS: [&str; 4] = ["gpt-4o", "llava-ov-7b", "llava-1.5-7b", "qwen-vl"];
    const STRENGTH: [f64; 4] = [1.0, 0.4, -0.6, 0.0];
    (0..n)
        .map(|_| {
            let a = rng.below(4);
            let b = (a + 1 + rng.below(3)) % 4;
            let p = 1.0 / (1.0 + (STRENGTH[b] - STRENGTH[a]).exp());
            let winner = if rng.next_f64() < 0.15 {
                Winner::Tie
            } else if rng.next_f64() < p {
                Winner::A
            } else {
                Winner::B
            };
            Battle { model_a: MODELS[a], model_b: MODELS[b], winner }
        })
        .collect()
}

#[test]
fn metrics_elo_bootstrap_is_deterministic_and_brackets_the_fit() {
    let data = battles(&mut SplitMix64::new(3), 800);
    let bootstrap = Bootstrap { rounds: 200, seed: 42, confidence: 0.95 };
    let report = elo_with_intervals(&data, &EloConfig::default(), &bootstrap).expect("fits");
    let again = elo_with_intervals(&data, &EloConfig::default(), &bootstrap).expect("fits");
    assert_eq!(report, again, "same seed, same intervals");
    assert_eq!(report.rounds + report.skipped, 200);
    let order: Vec<&str> = report.ratings.iter().map(|r| r.model.as_str()).collect();
    assert_eq!(order, ["gpt-4o", "llava-ov-7b", "qwen-vl", "llava-1.5-7b"]);
    for r in &report.ratings {
        assert!(r.lower < r.rating && r.rating < r.upper, "{r:?}");
        assert!(r.upper - r.lower < 150.0, "{r:?}");
    }
    let mean: f64 = report.ratings.iter().map(|r| r.rating).sum::<f64>() / 4.0;
    assert!((mean - 1000.0).abs() < 1e-9);
    let other_seed = Bootstrap { seed: 43, ..bootstrap };
    let other = elo_with_intervals(&data, &EloConfig::default(), &other_seed).expect("fits");
    assert_ne!(report.ratings[0].lower, other.ratings[0].lower);
}

#[test]
fn metrics_elo_errors() {
    let one_sided = [Battle { model_a: "a", model_b: "b", winner: Winner::A }];
    assert_eq!(mle_elo(&one_sided, &EloConfig::default()), Err(EloError::NotConnected("b".into())));
    let bad = Bootstrap { confidence: 1.5, ..Bootstrap::default() };
    let data = battles(&mut SplitMix64::new(1), 50);
    assert!(matches!(elo_with_intervals(&data, &EloConfig::default(), &bad), Err(EloError::InvalidConfig(_))));
}
