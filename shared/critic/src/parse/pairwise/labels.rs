//! Recognising a response label at a token position: `[1]`, `[first]`, `response 2`, `answer #1`,
//! `the second one`, `response b`, `[[a]]` ...

use super::lexicon::{AFTER_BARE_ORDINAL, ORDINAL_NOUNS, RESPONSE_NOUNS, TIE_WORDS};
use super::tokens::Tok;
use crate::verdict::Preference;

/// How the two responses are named in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelSet {
    /// "The first response" / "The second response", `[1]` / `[2]`.
    Numbers,
    /// "Response A" / "Response B", `[A]` / `[B]`.
    Letters,
}

/// A label found in the text, with the token index just past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Found {
    pub(super) pref: Preference,
    pub(super) end: usize,
    /// Whether it was written in brackets (`[1]`, `[[B]]`, `[tie]`).
    pub(super) bracketed: bool,
}

/// Where a label is being read. In a conclusion ("the better response: 2") a bare `2`/`b` and a
/// parenthesised `(2)` count; elsewhere they do not, since numbered lists and articles look the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Context {
    Anywhere,
    Conclusion,
}

impl LabelSet {
    /// The side a bare label word names: "1"/"one"/"first" or "a" (letters) for the first response.
    fn side_of(self, word: &str) -> Option<Preference> {
        match (self, word) {
            (_, "first" | "1st") => Some(Preference::First),
            (_, "second" | "2nd") => Some(Preference::Second),
            (LabelSet::Numbers, "1" | "one") => Some(Preference::First),
            (LabelSet::Numbers, "2" | "two") => Some(Preference::Second),
            (LabelSet::Letters, "a") => Some(Preference::First),
            (LabelSet::Letters, "b") => Some(Preference::Second),
            _ => None,
        }
    }

    /// A label word after a response noun: "response 1", "answer b", or glued, "response1".
    fn side_after_noun(self, word: &str) -> Option<Preference> {
        match self {
            LabelSet::Numbers => match word {
                "1" | "one" => Some(Preference::First),
                "2" | "two" => Some(Preference::Second),
                _ => None,
            },
            LabelSet::Letters => match word {
                "a" => Some(Preference::First),
                "b" => Some(Preference::Second),
                _ => None,
            },
        }
    }

    fn glued(self, word: &str) -> Option<Preference> {
        RESPONSE_NOUNS
            .iter()
            .find_map(|noun| word.strip_prefix(noun))
            .filter(|rest| !rest.is_empty())
            .and_then(|rest| self.side_after_noun(rest))
    }
}

/// The label starting at token `k`, if any.
pub(super) fn label_at(toks: &[Tok<'_>], k: usize, set: LabelSet, ctx: Context) -> Option<Found> {
    let tok = *toks.get(k)?;
    match tok {
        Tok::Punct('[') => bracketed(toks, k, set, '[', ']'),
        Tok::Punct('(') if ctx == Context::Conclusion => bracketed(toks, k, set, '(', ')'),
        Tok::Punct(_) => None,
        Tok::Word(w) => {
            if RESPONSE_NOUNS.contains(&w) {
                let mut j = k + 1;
                if toks.get(j).is_some_and(|t| t.is_punct('#')) {
                    j += 1;
                }
                let side = toks.get(j).and_then(|t| t.word()).and_then(|n| set.side_after_noun(n))?;
                return Some(Found { pref: side, end: j + 1, bracketed: false });
            }
            if let Some(side) = set.glued(w) {
                return Some(Found { pref: side, end: k + 1, bracketed: false });
            }
            if w == "the" {
                return ordinal(toks, k + 1, true);
            }
            if let Some(found) = ordinal(toks, k, false) {
                return Some(found);
            }
            if ctx == Context::Conclusion && matches!(w, "1" | "2" | "a" | "b") {
                let side = set.side_of(w)?;
                return Some(Found { pref: side, end: k + 1, bracketed: false });
            }
            None
        }
    }
}

/// "first response", "the second one", or (after "the") a bare "the second is ...".
fn ordinal(toks: &[Tok<'_>], k: usize, after_the: bool) -> Option<Found> {
    let side = match toks.get(k)?.word()? {
        "first" | "1st" => Preference::First,
        "second" | "2nd" => Preference::Second,
        _ => return None,
    };
    match toks.get(k + 1) {
        Some(t) if t.is_word_in(ORDINAL_NOUNS) => Some(Found { pref: side, end: k + 2, bracketed: false }),
        Some(t) if after_the && (t.is_word_in(AFTER_BARE_ORDINAL) || matches!(t, Tok::Punct(_))) => {
            Some(Found { pref: side, end: k + 1, bracketed: false })
        }
        None if after_the => Some(Found { pref: side, end: k + 1, bracketed: false }),
        _ => None,
    }
}

/// `[1]`, `[[B]]`, `[response 2]`, `[first]`, `[tie]`: up to three words between the brackets.
fn bracketed(toks: &[Tok<'_>], k: usize, set: LabelSet, open: char, close: char) -> Option<Found> {
    let mut j = k;
    while toks.get(j).is_some_and(|t| t.is_punct(open)) {
        j += 1;
    }
    let mut words: Vec<&str> = Vec::with_capacity(3);
    while let Some(t) = toks.get(j) {
        match *t {
            Tok::Word(w) if words.len() < 3 => words.push(w),
            Tok::Punct('#') => {}
            Tok::Punct(c) if c == close => break,
            _ => return None,
        }
        j += 1;
    }
    if !toks.get(j).is_some_and(|t| t.is_punct(close)) {
        return None;
    }
    while toks.get(j).is_some_and(|t| t.is_punct(close)) {
        j += 1;
    }
    let pref = match words.as_slice() {
        [w] if TIE_WORDS.contains(w) => Some(Preference::Tie),
        [w] => set.side_of(w).or_else(|| set.glued(w)),
        ["the", w] => set.side_of(w).filter(|_| matches!(*w, "first" | "second" | "1st" | "2nd")),
        [noun, w] if RESPONSE_NOUNS.contains(noun) => set.side_after_noun(w),
        [ord, noun] | ["the", ord, noun] if ORDINAL_NOUNS.contains(noun) => match *ord {
            "first" | "1st" => Some(Preference::First),
            "second" | "2nd" => Some(Preference::Second),
            _ => None,
        },
        _ => None,
    }?;
    Some(Found { pref, end: j, bracketed: true })
}

/// Every label in `toks` (not in conclusion context), left to right, with its start index.
pub(super) fn all_labels(toks: &[Tok<'_>], set: LabelSet) -> Vec<(usize, Found)> {
    let mut out = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        match label_at(toks, k, set, Context::Anywhere) {
            Some(found) => {
                out.push((k, found));
                k = found.end.max(k + 1);
            }
            None => k += 1,
        }
    }
    out
}
