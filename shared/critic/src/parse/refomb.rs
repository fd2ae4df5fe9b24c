//! RefoMB: `[[A]]` (response A, the reference shown first, is better), `[[B]]` (B better), `[[C]]` (tie).
//!
//! Rule (METHOD.md section 2): the first match decides, A -> -1, B -> +1, C -> 0, which are
//! criticloop's `First`, `Second` and `Tie` (their relative scores are exactly -1, +1, 0). Lowercase and
//! full-width brackets are accepted; no match is unparsed.

use super::normalize::fold;
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let folded = fold(text).to_uppercase();
    let first = folded.match_indices("[[").find_map(|(at, _)| match folded.get(at + 2..at + 5)? {
        "A]]" => Some(Verdict::First),
        "B]]" => Some(Verdict::Second),
        "C]]" => Some(Verdict::Tie),
        _ => None,
    });
    match first {
        Some(verdict) => Parsed::of(verdict),
        None => Parsed::unparsed("no [[A]], [[B]] or [[C]] found"),
    }
}
