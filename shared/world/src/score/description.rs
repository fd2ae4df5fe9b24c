//! Scores of descriptions against the scene's objects, one response at a time and in aggregate.
//!
//! Conventions for the empty cases (chosen so that saying nothing is never rewarded with a high F1):
//! - nothing mentioned: precision 1.0 and hallucination rate 0.0 (nothing false was claimed);
//! - no objects in the truth: recall 1.0 (nothing was missed);
//! - F1 is the harmonic mean of precision and recall, and 0.0 when both are 0. So an empty response to a
//!   non-empty scene scores precision 1, recall 0, F1 0; an empty response to an empty scene scores 1.

use serde::{Deserialize, Serialize};

use super::{match_mentions, parse_mentions};
use crate::scene::Object;

/// How one description compares with the truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DescriptionScore {
    /// Mentions parsed from the response.
    pub mentioned: usize,
    /// Mentions matched one-to-one to true objects.
    pub matched: usize,
    /// Objects in the truth.
    pub truth: usize,
    /// matched / mentioned.
    pub precision: f64,
    /// matched / truth.
    pub recall: f64,
    pub f1: f64,
    /// Unmatched mentions / mentioned (CHAIR_i): 1 - precision.
    pub hallucination_rate: f64,
}

/// Aggregates over many descriptions: micro averages from the summed counts, and the mean per-response F1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub responses: usize,
    pub mentioned: usize,
    pub matched: usize,
    pub truth: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub hallucination_rate: f64,
    /// The mean of the responses' own F1 (0.0 for no responses).
    pub mean_f1: f64,
}

impl DescriptionScore {
    /// The score of `matched` of `mentioned` mentions against `truth` objects, with the module's
    /// conventions for empty cases.
    pub fn from_counts(mentioned: usize, matched: usize, truth: usize) -> Self {
        let (precision, recall, f1, hallucination_rate) = rates(mentioned, matched, truth);
        DescriptionScore { mentioned, matched, truth, precision, recall, f1, hallucination_rate }
    }
}

fn rates(mentioned: usize, matched: usize, truth: usize) -> (f64, f64, f64, f64) {
    let ratio = |num: usize, den: usize| if den == 0 { 1.0 } else { num as f64 / den as f64 };
    let precision = ratio(matched, mentioned);
    let recall = ratio(matched, truth);
    let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
    (precision, recall, f1, 1.0 - precision)
}

/// Parses `text`'s mentions and matches them to `objects`.
pub fn score_description(text: &str, objects: &[Object]) -> DescriptionScore {
    let mentions = parse_mentions(text);
    let matched = match_mentions(&mentions, objects).iter().filter(|m| m.is_some()).count();
    DescriptionScore::from_counts(mentions.len(), matched, objects.len())
}

/// Micro averages over `scores` (summed counts, same empty-case conventions) and the mean F1.
pub fn summarise(scores: &[DescriptionScore]) -> Summary {
    let mentioned = scores.iter().map(|s| s.mentioned).sum();
    let matched = scores.iter().map(|s| s.matched).sum();
    let truth = scores.iter().map(|s| s.truth).sum();
    let (precision, recall, f1, hallucination_rate) = rates(mentioned, matched, truth);
    let mean_f1 = if scores.is_empty() { 0.0 } else { scores.iter().map(|s| s.f1).sum::<f64>() / scores.len() as f64 };
    Summary { responses: scores.len(), mentioned, matched, truth, precision, recall, f1, hallucination_rate, mean_f1 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Colour, Shape, Size};

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} != {b}");
    }

    #[test]
    fn empty_cases_follow_the_conventions() {
        let nothing = DescriptionScore::from_counts(0, 0, 3);
        assert_eq!((nothing.precision, nothing.recall, nothing.f1, nothing.hallucination_rate), (1.0, 0.0, 0.0, 0.0));
        let empty_scene = DescriptionScore::from_counts(0, 0, 0);
        assert_eq!((empty_scene.precision, empty_scene.recall, empty_scene.f1), (1.0, 1.0, 1.0));
        let all_wrong = DescriptionScore::from_counts(2, 0, 2);
        assert_eq!((all_wrong.precision, all_wrong.f1, all_wrong.hallucination_rate), (0.0, 0.0, 1.0));
    }

    #[test]
    fn scores_a_response() {
        let objects = [
            Object { shape: Shape::Circle, colour: Colour::Red, size: Size::Large, x: 10, y: 10 },
            Object { shape: Shape::Square, colour: Colour::Blue, size: Size::Small, x: 30, y: 30 },
        ];
        // one right, one wrong size (unmatched), one colour-less (unmatched)
        let s = score_description("A large red circle, a large blue square and a triangle.", &objects);
        assert_eq!((s.mentioned, s.matched, s.truth), (3, 1, 2));
        close(s.precision, 1.0 / 3.0);
        close(s.recall, 0.5);
        close(s.f1, 0.4);
        close(s.hallucination_rate, 2.0 / 3.0);
    }

    #[test]
    fn summary_sums_counts_and_averages_f1() {
        let a = DescriptionScore::from_counts(2, 2, 4); // P 1, R .5, F1 2/3
        let b = DescriptionScore::from_counts(4, 1, 1); // P .25, R 1, F1 .4
        let s = summarise(&[a, b]);
        assert_eq!((s.responses, s.mentioned, s.matched, s.truth), (2, 6, 3, 5));
        close(s.precision, 0.5);
        close(s.recall, 0.6);
        close(s.f1, 2.0 * 0.5 * 0.6 / 1.1);
        close(s.hallucination_rate, 0.5);
        close(s.mean_f1, (2.0 / 3.0 + 0.4) / 2.0);
        assert_eq!(summarise(&[]).mean_f1, 0.0);
    }
}
