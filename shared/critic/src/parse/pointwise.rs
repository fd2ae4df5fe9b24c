//! LLaVA-Critic's pointwise convention ("Score the response out of 100"): the score is in prose.
//!
//! Candidates are numbers after "score"/"rating"/"rate"/"rated"/"grade" ("Score: 75", "I would rate
//! it 75", "a score of 75") and numbers written out of 100 anywhere ("75/100", "75 out of 100").
//! A candidate anchored by "final score"/"overall score"/"final rating" wins, the last one if several;
//! otherwise all candidates must agree. Numbers on another scale ("7/10") do not count, and a text
//! whose only scores are on another scale is unparsed with that reason, as are disagreeing scores.

use super::normalize::fold_lower;
use super::score_text::{Candidate, number_after, number_here, word_positions};
use crate::verdict::{Parsed, Verdict};

const ANCHORS: &[&str] = &["score", "rating", "rate", "rated", "grade", "scored", "give", "assign"];
const DECISIVE: &[&str] = &["final score", "overall score", "final rating", "overall rating", "final grade"];

pub(super) fn parse(text: &str) -> Parsed {
    let lower = fold_lower(text);
    let mut decisive: Vec<(usize, Candidate)> = Vec::new();
    for anchor in DECISIVE {
        for at in word_positions(&lower, anchor) {
            if let Some(c) = number_after(&lower, at + anchor.len()) {
                decisive.push((at, c));
            }
        }
    }
    decisive.sort_by_key(|(at, _)| *at);
    let mut all: Vec<Candidate> = decisive.iter().map(|(_, c)| *c).collect();
    for anchor in ANCHORS {
        all.extend(word_positions(&lower, anchor).filter_map(|at| number_after(&lower, at + anchor.len())));
    }
    // numbers written out of 100 anywhere
    let bytes = lower.as_bytes();
    for i in 0..bytes.len() {
        if bytes[i].is_ascii_digit()
            && !(i > 0 && bytes[i - 1].is_ascii_digit())
            && let Some(c) = number_here(&lower, i).filter(|c| c.out_of == Some(100.0))
        {
            all.push(c);
        }
    }

    if let Some(&(_, c)) = decisive.last() {
        return accept(c);
    }
    let on_scale: Vec<f64> = all.iter().filter(|c| c.out_of.is_none_or(|s| s == 100.0)).map(|c| c.value).collect();
    let Some(&value) = on_scale.first() else {
        return match all.iter().find_map(|c| c.out_of) {
            Some(scale) => Parsed::unparsed(format!("score given out of {scale}, expected out of 100")),
            None => Parsed::unparsed("no score found"),
        };
    };
    if on_scale.iter().any(|v| *v != value) {
        let mut distinct = on_scale.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        return Parsed::unparsed(format!("conflicting scores: {distinct:?}"));
    }
    accept(Candidate { value, out_of: None, end: 0 })
}

fn accept(c: Candidate) -> Parsed {
    if let Some(scale) = c.out_of.filter(|s| *s != 100.0) {
        return Parsed::unparsed(format!("score {} given out of {scale}, expected out of 100", c.value));
    }
    if !(0.0..=100.0).contains(&c.value) {
        return Parsed::unparsed(format!("score {} outside 0..=100", c.value));
    }
    Parsed::of(Verdict::Score { value: c.value })
}
