//! Rewards r_i = sum_k a_ki - sum_l a_il and the chosen/rejected pair, hand-computed for small K.

use criticloop_critic as critic;

use critic::{OutputFormat, PairChoice, Verdict, best_worst, parse, pointwise_pairs, relative_score, rewards};

/// a_ij for each judged ordered pair; unparsed text contributes nothing.
fn judged(k: usize, outputs: &[(usize, usize, &str)]) -> Vec<f64> {
    let scores: Vec<(usize, usize, f64)> = outputs
        .iter()
        .filter_map(|&(i, j, text)| {
            let verdict = parse(OutputFormat::CriticPairwise, text).verdict().cloned()?;
            Some((i, j, relative_score(&verdict)?))
        })
        .collect();
    rewards(k, &scores)
}

fn assert_all_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-12, "got {got:?}, want {want:?}");
    }
}

#[test]
fn reward_relative_scores_per_verdict() {
    assert_eq!(relative_score(&Verdict::First), Some(-1.0));
    assert_eq!(relative_score(&Verdict::Second), Some(1.0));
    assert_eq!(relative_score(&Verdict::Tie), Some(0.0));
    assert_eq!(relative_score(&Verdict::Graded { value: 2 }), Some(1.0));
    assert_eq!(relative_score(&Verdict::Graded { value: -1 }), Some(-0.5));
    assert_eq!(relative_score(&Verdict::Graded { value: 0 }), Some(0.0));
    assert_eq!(relative_score(&Verdict::Graded { value: 3 }), None);
    assert_eq!(relative_score(&Verdict::Score { value: 80.0 }), None);
    // LLaVA-W style pair of scores: (9 - 6) / (9 + 6)
    assert_eq!(relative_score(&Verdict::ScorePair { first: 6.0, second: 9.0 }), Some(0.2));
    assert_eq!(relative_score(&Verdict::ScorePair { first: 0.0, second: 0.0 }), Some(0.0));
    assert_eq!(critic::pointwise_relative_score(0.0, 0.7), Some(1.0));
    assert_eq!(critic::pointwise_relative_score(-1.0, 0.7), None);
    // scale-free: MM-Vet's 0-1 and the critic's 0-100 agree
    let (small, large) = (critic::pointwise_relative_score(0.4, 0.6), critic::pointwise_relative_score(40.0, 60.0));
    assert!(small.zip(large).is_some_and(|(a, b)| (a - b).abs() < 1e-12 && (b - 0.2).abs() < 1e-12));
}

#[test]
fn reward_k2_consistent_critic() {
    // both orders say response 0 is better
    let r = judged(2, &[(0, 1, "The better response: [1]."), (1, 0, "The better response: [2].")]);
    assert_all_close(&r, &[2.0, -2.0]);
    assert_eq!(best_worst(&r), Some(PairChoice { chosen: 0, rejected: 1 }));
}

#[test]
fn reward_k2_position_bias_cancels() {
    // a critic that always prefers the first shown response gives no pair
    let r = judged(2, &[(0, 1, "[1]"), (1, 0, "[1]")]);
    assert_all_close(&r, &[0.0, 0.0]);
    assert_eq!(best_worst(&r), None);
}

#[test]
fn reward_k2_graded_verdicts() {
    // (0, 1): [[B>>A]] -> a_01 = +1; (1, 0): [[A>B]] -> a_10 = -0.5 (1 shown first, slightly better)
    let scores: Vec<(usize, usize, f64)> = [(0, 1, "[[B>>A]]"), (1, 0, "[[A>B]]")]
        .iter()
        .filter_map(|&(i, j, t)| Some((i, j, relative_score(parse(OutputFormat::WildVision, t).verdict()?)?)))
        .collect();
    let r = rewards(2, &scores);
    // r_0 = a_10 - a_01 = -0.5 - 1; r_1 = a_01 - a_10 = 1 + 0.5
    assert_all_close(&r, &[-1.5, 1.5]);
    assert_eq!(best_worst(&r), Some(PairChoice { chosen: 1, rejected: 0 }));
}

#[test]
fn reward_k3_with_tie_and_unparsed() {
    let r = judged(
        3,
        &[
            (0, 1, "The better response: [2]."),       // a_01 = +1
            (1, 0, "The better response: [1]."),       // a_10 = -1
            (0, 2, "Two responses are equally good."), // a_02 = 0
            (2, 0, "I am not sure."),                  // unparsed: nothing
            (1, 2, "Response 1 is better."),           // a_12 = -1
            (2, 1, "[2]"),                             // a_21 = +1
        ],
    );
    // r_0 = (a_10 + a_20) - (a_01 + a_02) = -1 - 1 = -2
    // r_1 = (a_01 + a_21) - (a_10 + a_12) = 2 + 2 = 4
    // r_2 = (a_02 + a_12) - (a_20 + a_21) = -1 - 1 = -2
    assert_all_close(&r, &[-2.0, 4.0, -2.0]);
    // rejected: the highest index among the lowest rewards
    assert_eq!(best_worst(&r), Some(PairChoice { chosen: 1, rejected: 2 }));
}

#[test]
fn reward_k5_perfect_critic_with_ties() {
    // latent quality 3 > 1 > 0 = 4 > 2; the critic reports sign(q_j - q_i) on every ordered pair
    let q = [1, 2, 0, 3, 1];
    let mut outputs = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            if i != j {
                let text = match q[j].cmp(&q[i]) {
                    std::cmp::Ordering::Greater => "The better response: [2].",
                    std::cmp::Ordering::Less => "The better response: [1].",
                    std::cmp::Ordering::Equal => "Two responses are equally good.",
                };
                outputs.push((i, j, text));
            }
        }
    }
    let r = judged(5, &outputs);
    // r_i = 2 * sum_k sign(q_i - q_k)
    assert_all_close(&r, &[-2.0, 4.0, -8.0, 8.0, -2.0]);
    assert_eq!(best_worst(&r), Some(PairChoice { chosen: 3, rejected: 2 }));
}

#[test]
fn reward_k5_all_ties_gives_no_pair() {
    let mut outputs = Vec::new();
    for i in 0..5 {
        for j in 0..5 {
            if i != j {
                outputs.push((i, j, "Two responses are equally good."));
            }
        }
    }
    let r = judged(5, &outputs);
    assert_all_close(&r, &[0.0; 5]);
    assert_eq!(best_worst(&r), None);
}

#[test]
fn reward_k5_pointwise_scores_with_unparsed() {
    // critic pointwise scores out of 100; response 2's judgment was unparsed
    let texts = ["Score: 80", "Score: 60", "no idea", "I would rate it 80 out of 100.", "40/100"];
    let scores: Vec<Option<f64>> = texts
        .iter()
        .map(|t| match parse(OutputFormat::CriticPointwise, t).verdict() {
            Some(Verdict::Score { value }) => Some(*value),
            _ => None,
        })
        .collect();
    assert_eq!(scores, vec![Some(80.0), Some(60.0), None, Some(80.0), Some(40.0)]);
    let r = rewards(5, &pointwise_pairs(&scores));
    // r_i = 2 * sum_k (s_i - s_k) / (s_i + s_k) over judged k != i
    let r0 = 2.0 * (20.0 / 140.0 + 0.0 + 40.0 / 120.0);
    let r1 = 2.0 * (-20.0 / 140.0 - 20.0 / 140.0 + 20.0 / 100.0);
    let r4 = 2.0 * (-40.0 / 120.0 - 20.0 / 100.0 - 40.0 / 120.0);
    assert_all_close(&r, &[r0, r1, 0.0, r0, r4]);
    // 0 and 3 tie for best: the lowest index is chosen
    assert_eq!(best_worst(&r), Some(PairChoice { chosen: 0, rejected: 4 }));
}

#[test]
fn reward_ignores_bad_pairs_and_handles_edges() {
    let r = rewards(3, &[(0, 0, 1.0), (0, 7, 1.0), (0, 1, f64::NAN), (2, 1, 0.5)]);
    assert_all_close(&r, &[0.0, 0.5, -0.5]);
    assert_eq!(best_worst(&[]), None);
    assert_eq!(best_worst(&[1.0]), None);
    assert_eq!(best_worst(&[1.0, f64::NAN]), None);
    assert_eq!(best_worst(&[0.5, 0.5, 0.5]), None);
    assert_eq!(best_worst(&[2.0, -1.0, 2.0, -1.0]), Some(PairChoice { chosen: 0, rejected: 3 }));
}
