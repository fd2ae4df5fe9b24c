//! LLaVA-in-the-Wild / LLaVA-Wilder: the judge's first line holds two scores 1-10, the first for
//! assistant 1 (the reference answer), the second for assistant 2 (the judged model).
//!
//! Rule (METHOD.md section 2): first line, `,`/`;` become spaces, the first two numbers. criticloop
//! reads the first line after leading blank lines, drops markdown emphasis and brackets around the
//! numbers (`**8 9**`, `[8, 9]`), and requires both scores in 1..=10; otherwise unparsed, where the
//! benchmark would score (-1, -1) (see [`super::compat::llava_bench_scores`]).

use super::normalize::fold;
use super::number::token_number;
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let folded = fold(text);
    let line = folded.trim_start().lines().next().unwrap_or_default();
    let line = line.replace([',', ';'], " ");
    let scores: Vec<f64> =
        line.split_whitespace().filter_map(|t| token_number(t.trim_matches(['(', ')', '[', ']']))).take(2).collect();
    let [first, second] = scores[..] else {
        return Parsed::unparsed(format!(
            "first line has {} number(s), expected two scores: {:?}",
            scores.len(),
            truncate(&line)
        ));
    };
    for s in [first, second] {
        if !(1.0..=10.0).contains(&s) {
            return Parsed::unparsed(format!("score {s} outside 1..=10"));
        }
    }
    Parsed::of(Verdict::ScorePair { first, second })
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}
