//! Stage 1: explicit conclusions (`The better response: [1]`, "Verdict: B", tie statements).

use super::labels::{Context, Found, LabelSet, label_at};
use super::lexicon::*;
use super::tokens::Tok;
use super::{Outcome, agree, is_negation, name, starts_with_phrase};
use crate::verdict::Preference;

pub(super) fn conclusions(toks: &[Tok<'_>], set: LabelSet, negated: &mut bool) -> Outcome {
    let mut found = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        if TIE_PHRASES.iter().any(|p| starts_with_phrase(toks, k, p)) {
            found.push(Preference::Tie);
            // skip past the rest of this sentence's tie phrase so "equally good" is not counted twice
            while k < toks.len() && !toks[k].ends_sentence() {
                k += 1;
            }
            continue;
        }
        let head_end =
            if toks[k].is_word_in(CONCLUSION_ADJS) && toks.get(k + 1).is_some_and(|t| t.is_word_in(CONCLUSION_NOUNS)) {
                Some(k + 2)
            } else if toks[k].is_word_in(VERDICT_NOUNS)
                && toks.get(k + 1).is_some_and(|t| t.is_punct(':') || t.is_word("is"))
            {
                Some(k + 1)
            } else {
                None
            };
        if let Some(end) = head_end {
            // "the better response is not [1]" is no conclusion, and no bare [1] either
            if let Some((p, next)) = conclusion_label(toks, end, set) {
                found.push(p);
                k = next;
                continue;
            }
            if toks[end..].iter().take(4).any(is_negation) {
                *negated = true;
            }
        }
        k += 1;
    }
    match agree(&found) {
        Some(p) => Outcome::Decided(p),
        None if found.is_empty() => Outcome::Nothing,
        None => Outcome::Conflict(format!(
            "conflicting conclusions: {}",
            found.iter().map(|&p| name(p)).collect::<Vec<_>>().join(", ")
        )),
    }
}

/// The label after a conclusion head such as "the better response": skip `:`/`is`/`-`/`=`/fillers,
/// then read a label, a tie word, or "the" + label.
fn conclusion_label(toks: &[Tok<'_>], mut k: usize, set: LabelSet) -> Option<(Preference, usize)> {
    let mut skipped = 0;
    while let Some(t) = toks.get(k) {
        let filler = matches!(t, Tok::Punct(':' | '-' | '=' | ',' | '"' | '\'')) || t.is_word_in(CONCLUSION_FILLER);
        if !filler || skipped >= 6 {
            break;
        }
        k += 1;
        skipped += 1;
    }
    let tok = *toks.get(k)?;
    if tok.is_word_in(TIE_WORDS) || TIE_PHRASES.iter().any(|p| starts_with_phrase(toks, k, p)) {
        return Some((Preference::Tie, k + 1));
    }
    let found: Found = label_at(toks, k, set, Context::Conclusion)
        .or_else(|| tok.is_word("the").then(|| label_at(toks, k + 1, set, Context::Conclusion)).flatten())?;
    // "The better response: response 1 and response 2 are equally good" is not a conclusion for 1.
    if toks.get(found.end).is_some_and(|t| t.is_word_in(&["and", "or", "vs", "versus"])) {
        return None;
    }
    Some((found.pref, found.end))
}
