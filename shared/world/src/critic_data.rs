//! Critic instruction data from the ground truth, the LLaVA-Critic way. For two responses to an item, a
//! pairwise judgment that first says what the image shows (the answer to a short question, or every
//! object for a description), then what each response gets right, misses or invents, ending in
//! LLaVA-Critic's verdict sentence: "The better response: [1]." / "The better response: [2]." / "Two
//! responses are equally good.". For one response, a pointwise judgment ending in "Score: N" (out of
//! 100). The verdict is the oracle's ([`better`]), so a critic trained on this data learns the ground
//! truth's preferences, ties included; the score is 100 for a right short answer and 0 for a wrong one,
//! and 100 x F1 for a description.
//!
//! Saying what the image shows first makes a critic answer the question itself before it compares: a
//! critic trained without that sentence learned to copy the two responses and call both "correct" (it
//! judged from the text alone, session 6); with it, every judgment is also a visual-question-answering
//! example, and the verdict follows from the critic's own reading of the image. Each response's sentence
//! then restates the reference beside the response's answer ("answers \"no\"; the answer is \"yes\", so
//! it is wrong"), and a description's sentence ends in its score, so that every decision is a comparison
//! of two nearby spans.

use std::cmp::Ordering;

use crate::score::{better, match_mentions, normalise_answer, parse_mentions, score_description};
use crate::tasks::Truth;

/// The ground truth's verdict on an ordered pair of responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairVerdict {
    First,
    Second,
    Tie,
}

impl PairVerdict {
    /// The ground truth's verdict on `first` (shown first) against `second` ([`better`]).
    pub fn of(truth: &Truth, first: &str, second: &str) -> Self {
        match better(truth, first, second) {
            Ordering::Greater => PairVerdict::First,
            Ordering::Less => PairVerdict::Second,
            Ordering::Equal => PairVerdict::Tie,
        }
    }
}

/// A short response's answer, normalised, beside the expected one.
#[derive(Debug, Clone, PartialEq)]
struct ShortAnswer {
    given: String,
    expected: String,
    right: bool,
}

/// What a response gets right and wrong, and its score out of 100: 100 for a right short answer and 0 for
/// a wrong one, 100 x F1 for a description.
#[derive(Debug, Clone, PartialEq)]
struct Assessment {
    /// Short answers only.
    answer: Option<ShortAnswer>,
    /// Descriptions: the objects named that are in the image, those left out, and those not in it.
    named: Vec<String>,
    missed: Vec<String>,
    invented: Vec<String>,
    score: u32,
}

fn assess(truth: &Truth, response: &str) -> Assessment {
    if let Some(expected) = &truth.answer {
        let (given, expected) = (normalise_answer(response), normalise_answer(expected));
        let right = !given.is_empty() && given == expected;
        let answer = Some(ShortAnswer { given, expected, right });
        return Assessment { answer, named: vec![], missed: vec![], invented: vec![], score: 100 * u32::from(right) };
    }
    let objects = &truth.scene.objects;
    let mentions = parse_mentions(response);
    let matches = match_mentions(&mentions, objects);
    let mut named = Vec::new();
    let mut invented = Vec::new();
    for (mention, matched) in mentions.iter().zip(&matches) {
        match matched {
            Some(i) => named.push(objects[*i].name()),
            None => invented.push(match mention.colour {
                Some(c) => format!("{} {}", c.word(), mention.shape.word()),
                None => mention.shape.word().to_string(),
            }),
        }
    }
    let missed = (0..objects.len()).filter(|i| !matches.contains(&Some(*i))).map(|i| objects[i].name()).collect();
    let score = (100.0 * score_description(response, objects).f1).round() as u32;
    Assessment { answer: None, named, missed, invented, score }
}

/// "the red circle, the blue square and the green triangle".
fn list(names: &[String]) -> String {
    let the: Vec<String> = names.iter().map(|n| format!("the {n}")).collect();
    match the.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the image shows: "The answer is three." for a short question, "The image shows the red circle and
/// the blue square." for a description.
fn reference(truth: &Truth) -> String {
    match &truth.answer {
        Some(answer) => format!("The answer is {}.", normalise_answer(answer)),
        None => {
            let names: Vec<String> = truth.scene.objects.iter().map(|o| o.name()).collect();
            format!("The image shows {}.", list(&names))
        }
    }
}

/// One sentence on a response: "Response 1 answers \"two\"; the answer is \"three\", so it is wrong." or
/// "Response 2 names the red circle, misses the blue square, and mentions a green triangle, which the image
/// does not show: score 40.".
///
/// Each sentence puts the comparison beside the decision: the response's answer and the reference answer
/// sit a few tokens before "correct" / "wrong", and a description's score (100 x F1, as the pointwise rows
/// give it) ends its sentence, so the verdict compares two numbers. A critic trained on sentences that gave
/// the reference once, at the start, learned the words after "which is" from the data's prior rather than
/// from the comparison (session 7: "The answer is no. Response 1 answers \"yes\", which is correct.").
fn sentence(label: &str, a: &Assessment) -> String {
    if let Some(ShortAnswer { given, expected, right }) = &a.answer {
        let judged = if *right { "correct" } else { "wrong" };
        return if given.is_empty() {
            format!("{label} gives no answer; the answer is \"{expected}\", so it is wrong.")
        } else {
            format!("{label} answers \"{given}\"; the answer is \"{expected}\", so it is {judged}.")
        };
    }
    let mut parts = Vec::new();
    if a.named.is_empty() {
        parts.push("names nothing that is in the image".to_string());
    } else {
        parts.push(format!("names {}", list(&a.named)));
    }
    if !a.missed.is_empty() {
        parts.push(format!("misses {}", list(&a.missed)));
    }
    if !a.invented.is_empty() {
        let what: Vec<String> = a.invented.iter().map(|n| format!("a {n}")).collect();
        let what = match what.as_slice() {
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
            [] => String::new(),
        };
        parts.push(format!("mentions {what}, which the image does not show"));
    }
    let body = match parts.as_slice() {
        [one] => one.clone(),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
        [] => String::new(),
    };
    format!("{label} {body}: score {}.", a.score)
}

/// The verdict of the ground truth on (`first`, `second`) and the judgment a critic should write: what the
/// image shows, one sentence per response, then LLaVA-Critic's verdict sentence.
pub fn pairwise_judgment(truth: &Truth, first: &str, second: &str) -> (PairVerdict, String) {
    let verdict = PairVerdict::of(truth, first, second);
    let closing = match verdict {
        PairVerdict::First => "The better response: [1].",
        PairVerdict::Second => "The better response: [2].",
        PairVerdict::Tie => "Two responses are equally good.",
    };
    let a = sentence("Response 1", &assess(truth, first));
    let b = sentence("Response 2", &assess(truth, second));
    (verdict, format!("{} {a} {b}\n{closing}", reference(truth)))
}

/// The score (out of 100) the ground truth gives `response`, and the judgment a critic should write.
pub fn pointwise_judgment(truth: &Truth, response: &str) -> (u32, String) {
    let a = assess(truth, response);
    (a.score, format!("{} {}\nScore: {}", reference(truth), sentence("The response", &a), a.score))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorldConfig;
    use crate::tasks::{Family, Item};
    use crate::text::{describe, describe_imperfect};

    fn item(seed: u64, family: Family) -> Item {
        let config = WorldConfig { min_objects: 3, max_objects: 3, ..WorldConfig::default() };
        Item::generate(seed, Some(family), &config).expect("an item")
    }

    #[test]
    fn pairwise_judgments_follow_the_oracle_and_name_the_differences() {
        let d = item(3, Family::Describe);
        let objects = d.objects();
        let perfect = describe(objects);
        let omitting = describe_imperfect(d.scene(), &[1], &[]);
        let (v, text) = pairwise_judgment(&d.truth, &perfect, &omitting);
        assert_eq!(v, PairVerdict::First, "{text}");
        assert!(text.ends_with("The better response: [1]."), "{text}");
        assert!(text.contains(&format!("misses the {}", objects[1].name())), "{text}");
        let all = format!("the {}, the {} and the {}", objects[0].name(), objects[1].name(), objects[2].name());
        assert!(text.starts_with(&format!("The image shows {all}. Response 1 names {all}: score 100.")), "{text}");
        let (v, text) = pairwise_judgment(&d.truth, &omitting, &perfect);
        assert_eq!(v, PairVerdict::Second);
        assert!(text.ends_with("The better response: [2]."), "{text}");
        let (v, text) = pairwise_judgment(&d.truth, &perfect, &perfect);
        assert_eq!(v, PairVerdict::Tie);
        assert!(text.ends_with("Two responses are equally good."), "{text}");

        let s = item(4, Family::Count);
        let answer = s.answer().expect("a short answer").to_string();
        let (v, text) = pairwise_judgment(&s.truth, "zebra", &answer);
        assert_eq!(v, PairVerdict::Second);
        let reference = format!("The answer is {}. ", normalise_answer(&answer));
        assert!(text.starts_with(&reference), "{text}");
        let wrong =
            format!("Response 1 answers \"zebra\"; the answer is \"{}\", so it is wrong.", normalise_answer(&answer));
        assert!(text.contains(&wrong), "{text}");
        let (v, _) = pairwise_judgment(&s.truth, "zebra", "giraffe");
        assert_eq!(v, PairVerdict::Tie, "two wrong answers tie");
    }

    #[test]
    fn pointwise_scores_are_100_f1() {
        let d = item(5, Family::Describe);
        let (score, text) = pointwise_judgment(&d.truth, &describe(d.objects()));
        assert_eq!(score, 100);
        assert!(text.ends_with("Score: 100"), "{text}");
        let (score, _) = pointwise_judgment(&d.truth, &describe_imperfect(d.scene(), &[0], &[]));
        // 2 of 3 named, nothing invented: precision 1, recall 2/3, F1 0.8
        assert_eq!(score, 80);
        let s = item(6, Family::Presence);
        assert_eq!(pointwise_judgment(&s.truth, "maybe").0, 0);
    }
}
