//! MM-Vet: the judge completes a correctness score 0.0-1.0 against the ground truth.
//!
//! Rule (METHOD.md section 2): the first token as a float in [0, 1]. criticloop also drops markdown
//! emphasis, quotes and a trailing `.`/`,` around that token (`**0.8**`, `0.8.`); anything else is
//! unparsed (the benchmark retries and finally scores 0.0, see [`super::compat::mmvet_score`]).

use super::normalize::fold;
use super::number::token_number;
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let folded = fold(text);
    let Some(first) = folded.split_whitespace().next() else {
        return Parsed::unparsed("empty output");
    };
    let token = first.trim_matches(['"', '\'']).trim_end_matches(['.', ',']);
    let Some(value) = token_number(token) else {
        return Parsed::unparsed(format!(
            "first token {:?} is not a number",
            first.chars().take(40).collect::<String>()
        ));
    };
    if !(0.0..=1.0).contains(&value) {
        return Parsed::unparsed(format!("score {value} outside [0, 1]"));
    }
    Parsed::of(Verdict::Score { value })
}
