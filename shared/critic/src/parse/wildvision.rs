//! WildVision-Bench (arena-hard style): `[[A>>B]]`, `[[A>B]]`, `[[A=B]]`, `[[B>A]]`, `[[B>>A]]`, where
//! A is the baseline shown first and B the judged response, scored -2..=2 (positive: B better).
//!
//! Rule (METHOD.md section 2): exactly one distinct match of `\[\[([AB<>=]+)\]\]`; else "unclear",
//! which the benchmark counts as a tie (see [`super::compat::wildvision_score`]). criticloop reports
//! unclear as unparsed, also accepts the mirrored spellings (`[[B<A]]` = `[[A>B]]`, `[[B=A]]`) and
//! lowercase or full-width brackets, and rejects any other label inside the brackets (`[[A]]`).

use super::normalize::fold;
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let folded = fold(text).to_uppercase();
    let mut labels = matches(&folded);
    labels.sort_unstable();
    labels.dedup();
    match labels.as_slice() {
        [] => Parsed::unparsed("no [[A>B]]-style verdict found"),
        [label] => match score(label) {
            Some(value) => Parsed::of(Verdict::Graded { value }),
            None => Parsed::unparsed(format!("unknown verdict [[{label}]]")),
        },
        many => Parsed::unparsed(format!("{} different verdicts found: {many:?}", many.len())),
    }
}

/// All non-overlapping matches of `\[\[([AB<>=]+)\]\]`, left to right, as the benchmark's regex finds them.
pub(super) fn matches(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'[' && bytes[i + 1] == b'[' {
            let start = i + 2;
            let mut j = start;
            while bytes.get(j).is_some_and(|b| matches!(b, b'A' | b'B' | b'<' | b'>' | b'=')) {
                j += 1;
            }
            if j > start && bytes.get(j) == Some(&b']') && bytes.get(j + 1) == Some(&b']') {
                // start..j is ASCII, so these are char boundaries
                if let Some(label) = text.get(start..j) {
                    out.push(label);
                }
                i = j + 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// -2..=2 for a verdict label, positive when B (the judged response, shown second) is better.
pub(super) fn score(label: &str) -> Option<i8> {
    match label {
        "A>>B" | "B<<A" => Some(-2),
        "A>B" | "B<A" => Some(-1),
        "A=B" | "B=A" => Some(0),
        "B>A" | "A<B" => Some(1),
        "B>>A" | "A<<B" => Some(2),
        _ => None,
    }
}
