//! The pairwise parser (LLaVA-Critic's convention and free text), in three stages, strongest first:
//!
//! 1. Conclusions: `The better response: [1]`, "Better answer: the second one", `Verdict: [B]`,
//!    "Two responses are equally good." (and the truncated "Two responses are equally"). If several are
//!    found they must agree, else the text is unparsed ("conflicting conclusions").
//! 2. Comparisons, sentence by sentence: a comparative and the nearest label before it, e.g.
//!    `Response [1] is worse than [2]` (second), "the second answer is more accurate" (second),
//!    "I prefer response 1" (first). Outright comparatives (better, worse, prefer) outrank aspect
//!    comparatives (more accurate, fewer errors). Disagreeing comparisons are settled only by the last
//!    sentence with a conclusion marker ("Overall, ..."); otherwise the text is unparsed. A negated
//!    comparison (`[1] is not better than [2]`) is never guessed at.
//! 3. Bare bracketed labels: only `[2]` (or `[second]`) anywhere means the second; both mentioned
//!    without a decisive statement is unparsed.

mod comparisons;
mod conclusions;
mod labels;
mod lexicon;
mod tokens;

pub use labels::LabelSet;

use labels::all_labels;
use lexicon::*;
use tokens::{Tok, tokenize};

use super::normalize::fold_lower;
use crate::verdict::{Parsed, Preference, Verdict};

pub(super) fn parse(text: &str, set: LabelSet) -> Parsed {
    let folded = fold_lower(text);
    let toks = tokenize(&folded);

    let mut negated = false;
    match conclusions::conclusions(&toks, set, &mut negated) {
        Outcome::Decided(p) => return verdict(p),
        Outcome::Conflict(why) => return Parsed::unparsed(why),
        Outcome::Nothing => {}
    }
    match comparisons::comparisons(&toks, set, &mut negated) {
        Outcome::Decided(p) => return verdict(p),
        Outcome::Conflict(why) => return Parsed::unparsed(why),
        Outcome::Nothing => {}
    }
    if negated {
        return Parsed::unparsed("only negated comparisons (e.g. \"not better\"); no verdict");
    }
    bare_brackets(&toks, set)
}

enum Outcome {
    Decided(Preference),
    Conflict(String),
    Nothing,
}

fn verdict(p: Preference) -> Parsed {
    Parsed::of(match p {
        Preference::First => Verdict::First,
        Preference::Second => Verdict::Second,
        Preference::Tie => Verdict::Tie,
    })
}

fn name(p: Preference) -> &'static str {
    match p {
        Preference::First => "first",
        Preference::Second => "second",
        Preference::Tie => "tie",
    }
}

fn agree(found: &[Preference]) -> Option<Preference> {
    let first = *found.first()?;
    found.iter().all(|&p| p == first).then_some(first)
}

fn starts_with_phrase(toks: &[Tok<'_>], k: usize, phrase: &[&str]) -> bool {
    phrase.iter().enumerate().all(|(n, w)| toks.get(k + n).is_some_and(|t| t.is_word(w)))
}

fn is_negation(t: &Tok<'_>) -> bool {
    t.word().is_some_and(|w| NEGATIONS.contains(&w) || w.ends_with("n't"))
}

// --- stage 3: bare brackets -------------------------------------------------------------------------

fn bare_brackets(toks: &[Tok<'_>], set: LabelSet) -> Parsed {
    let labels = all_labels(toks, set);
    // "the answer is not [1]"
    let negated = labels.iter().any(|&(k, f)| f.bracketed && toks[k.saturating_sub(2)..k].iter().any(is_negation));
    if negated {
        return Parsed::unparsed("a bracketed label is negated (e.g. \"not [1]\"); no verdict");
    }
    let bracketed: Vec<Preference> = labels.iter().filter(|(_, f)| f.bracketed).map(|(_, f)| f.pref).collect();
    if let Some(p) = agree(&bracketed) {
        return verdict(p);
    }
    if !bracketed.is_empty() {
        return Parsed::unparsed("both labels mentioned without a decisive statement");
    }
    if labels.is_empty() {
        Parsed::unparsed("no verdict found")
    } else {
        Parsed::unparsed("responses mentioned but no verdict found")
    }
}
