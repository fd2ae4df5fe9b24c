//! The critic instruction data parses, with criticloop's own critic parser, to the verdicts and scores of
//! the ground truth: a critic trained on it learns outputs the judging service understands.

use critic::OutputFormat;
use critic::verdict::Verdict;
use world::{PairVerdict, SplitMix64, World, WorldConfig, pairwise_judgment, pointwise_judgment, sample_response};

#[test]
fn critic_data_parses_to_the_ground_truths_verdicts_and_scores() {
    let items = World::items(7, 200, &WorldConfig::default()).expect("items");
    let mut rng = SplitMix64::new(11);
    let mut seen = [0usize; 3];
    for item in &items {
        let a = sample_response(item, &mut rng, 0.6);
        let b = sample_response(item, &mut rng, 0.6);
        let (verdict, text) = pairwise_judgment(&item.question, &item.truth, &a, &b);
        let parsed = critic::parse(OutputFormat::CriticPairwise, &text);
        let want = match verdict {
            PairVerdict::First => Verdict::First,
            PairVerdict::Second => Verdict::Second,
            PairVerdict::Tie => Verdict::Tie,
        };
        seen[verdict as usize] += 1;
        assert_eq!(parsed.verdict(), Some(&want), "{}: {text}", item.id);

        let (score, text) = pointwise_judgment(&item.question, &item.truth, &a);
        let parsed = critic::parse(OutputFormat::CriticPointwise, &text);
        assert_eq!(parsed.verdict(), Some(&Verdict::Score { value: f64::from(score) }), "{}: {text}", item.id);
    }
    assert!(seen.iter().all(|&n| n >= 10), "first/second/tie all occur: {seen:?}");
}
