//! Image detailed captioning: the judge ends with "Final Score: N", N out of 100.
//!
//! Rule (METHOD.md section 2): the last "Final Score" number. criticloop matches case-insensitively,
//! accepts markdown and full-width colons, `85/100` and `85 out of 100`, and requires N in 0..=100 on
//! a 100-point scale; a "Final Score" with no number is skipped for an earlier one that has one.

use super::normalize::fold_lower;
use super::score_text::{number_after, word_positions};
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let lower = fold_lower(text);
    let last =
        word_positions(&lower, "final score").filter_map(|at| number_after(&lower, at + "final score".len())).last();
    let Some(c) = last else {
        return Parsed::unparsed("no \"Final Score: N\" found");
    };
    if let Some(scale) = c.out_of.filter(|s| *s != 100.0) {
        return Parsed::unparsed(format!("final score {} given out of {scale}, expected out of 100", c.value));
    }
    if !(0.0..=100.0).contains(&c.value) {
        return Parsed::unparsed(format!("final score {} outside 0..=100", c.value));
    }
    Parsed::of(Verdict::Score { value: c.value })
}
