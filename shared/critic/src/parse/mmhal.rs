//! MMHal-Bench: an explanation, then `Rating: s` with s in 0..=6.
//!
//! Rule (METHOD.md section 2): exactly one `rating: s` in the lowercased text, else 0. criticloop
//! requires exactly one distinct rating and reports unparsed instead of 0 (the benchmark's fallback is
//! [`super::compat::mmhal_rating`]). It also reads `**Rating:** 5`, `Rating：5` and `rating:5`, and
//! rejects `Rating: 10` or `Rating: 4.5` rather than reading them as 1 or 4.

use super::normalize::fold_lower;
use super::number::{number_at, skip_spaces};
use crate::verdict::{Parsed, Verdict};

pub(super) fn parse(text: &str) -> Parsed {
    let lower = fold_lower(text);
    let mut ratings: Vec<f64> = Vec::new();
    for (at, _) in lower.match_indices("rating") {
        let i = skip_spaces(&lower, at + "rating".len());
        if lower.as_bytes().get(i) != Some(&b':') {
            continue;
        }
        let i = skip_spaces(&lower, i + 1);
        if let Some((value, _)) = number_at(&lower, i) {
            ratings.push(value);
        }
    }
    if ratings.is_empty() {
        return Parsed::unparsed("no `Rating: s` found");
    }
    if let Some(bad) = ratings.iter().find(|r| !(r.fract() == 0.0 && (0.0..=6.0).contains(*r))) {
        return Parsed::unparsed(format!("rating {bad} is not an integer in 0..=6"));
    }
    ratings.sort_by(f64::total_cmp);
    ratings.dedup();
    match ratings[..] {
        [value] => Parsed::of(Verdict::Score { value }),
        _ => Parsed::unparsed(format!("{} different ratings found: {ratings:?}", ratings.len())),
    }
}
