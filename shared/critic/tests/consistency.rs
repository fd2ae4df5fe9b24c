//! Position consistency of the critic: the verdict on (i, j) against the verdict on (j, i).

use criticloop_critic as critic;

use Preference::{First, Second, Tie};
use critic::{Consistency, OutputFormat, Preference, Verdict, consistency, parse};

#[test]
fn consistency_perfect_critic() {
    let c = consistency(&[(0, 1, First), (1, 0, Second), (0, 2, Tie), (2, 0, Tie), (1, 2, Second), (2, 1, First)]);
    assert_eq!(c, Consistency { checked: 3, consistent: 3, unmatched: 0, duplicates: 0 });
    assert_eq!(c.rate(), Some(1.0));
}

#[test]
fn consistency_position_biased_critic() {
    // always prefers whatever is shown first: never consistent
    let c = consistency(&[(0, 1, First), (1, 0, First), (0, 2, First), (2, 0, First)]);
    assert_eq!((c.checked, c.consistent), (2, 0));
    assert_eq!(c.rate(), Some(0.0));
    // a tie one way and a preference the other way is inconsistent too
    let c = consistency(&[(0, 1, Tie), (1, 0, Second)]);
    assert_eq!((c.checked, c.consistent), (1, 0));
}

#[test]
fn consistency_missing_mirrors_duplicates_and_self_pairs() {
    let c = consistency(&[(0, 1, First), (1, 0, Second), (0, 1, Second), (0, 2, Tie), (3, 3, First)]);
    assert_eq!(c, Consistency { checked: 1, consistent: 1, unmatched: 1, duplicates: 1 });
    assert_eq!(consistency(&[]).rate(), None);
}

#[test]
fn consistency_from_parsed_critic_output() {
    let outputs = [
        (0, 1, OutputFormat::CriticPairwise, "The better response: [1]."),
        (1, 0, OutputFormat::CriticPairwise, "The better response: [2]."),
        (0, 2, OutputFormat::WildVision, "[[B>>A]]"),
        (2, 0, OutputFormat::WildVision, "[[A>B]]"),
        (1, 2, OutputFormat::LlavaWild, "7 7\nsame"),
        (2, 1, OutputFormat::LlavaWild, "8 6\n"),
        (3, 0, OutputFormat::CriticPairwise, "unclear"),
    ];
    let judged: Vec<(usize, usize, Preference)> = outputs
        .iter()
        .filter_map(|&(i, j, format, text)| Some((i, j, parse(format, text).verdict().and_then(Verdict::preference)?)))
        .collect();
    let c = consistency(&judged);
    // (0,1) consistent; (0,2) second-better both ways is consistent (graded strength is ignored);
    // (1,2) tie vs first-better is not; (3,0) was unparsed and is simply absent
    assert_eq!(c, Consistency { checked: 3, consistent: 2, unmatched: 0, duplicates: 0 });
}
