//! Stage 2: comparisons sentence by sentence (`[1] is worse than [2]`, "I prefer response 2").

use super::labels::{Context, Found, LabelSet, all_labels, label_at};
use super::lexicon::*;
use super::tokens::Tok;
use super::{Outcome, agree, is_negation, name};
use crate::verdict::Preference;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Strong,
    Aspect,
}

struct Decision {
    tier: Tier,
    sentence: usize,
    pref: Preference,
}

/// Polarity of a comparative at token k: +1 the subject is better, -1 worse, 0 tie; with its tier and
/// the token index after it.
fn comparative_at(toks: &[Tok<'_>], k: usize) -> Option<(i8, Tier, usize)> {
    let w = toks.get(k)?.word()?;
    let next = toks.get(k + 1).and_then(|t| t.word());
    if STRONG_POSITIVE.contains(&w) {
        return Some((1, Tier::Strong, k + 1));
    }
    if STRONG_NEGATIVE.contains(&w) {
        return Some((-1, Tier::Strong, k + 1));
    }
    if POSITIVE_COMPARATIVES.contains(&w) {
        return Some((1, Tier::Aspect, k + 1));
    }
    let next = next?;
    match w {
        "more" if POSITIVE_ADJS.contains(&next) => Some((1, Tier::Aspect, k + 2)),
        "more" if FAULTS.contains(&next) => Some((-1, Tier::Aspect, k + 2)),
        "less" if POSITIVE_ADJS.contains(&next) => Some((-1, Tier::Aspect, k + 2)),
        "less" | "fewer" if FAULTS.contains(&next) => Some((1, Tier::Aspect, k + 2)),
        "equally" if POSITIVE_ADJS.contains(&next) => Some((0, Tier::Aspect, k + 2)),
        _ => None,
    }
}

pub(super) fn comparisons(toks: &[Tok<'_>], set: LabelSet, negated: &mut bool) -> Outcome {
    let mut decisions: Vec<Decision> = Vec::new();
    let mut conclusion_sentences: Vec<usize> = Vec::new();
    for (s, sentence) in toks.split(|t| t.ends_sentence()).enumerate() {
        if sentence.iter().any(|t| t.is_word_in(CONCLUSION_MARKERS)) {
            conclusion_sentences.push(s);
        }
        let labels: Vec<(usize, Found)> =
            all_labels(sentence, set).into_iter().filter(|(_, f)| f.pref != Preference::Tie).collect();
        let mut k = 0;
        while k < sentence.len() {
            if let Some(d) = selection_at(sentence, k, set, negated) {
                decisions.push(Decision { tier: Tier::Strong, sentence: s, pref: d });
                k += 1;
                continue;
            }
            let Some((polarity, tier, after)) = comparative_at(sentence, k) else {
                k += 1;
                continue;
            };
            if polarity == 0 {
                // "both responses are equally accurate": a tie on this aspect if both are named or "both"
                if sentence[..k].iter().any(|t| t.is_word_in(&["both", "two"])) {
                    decisions.push(Decision { tier, sentence: s, pref: Preference::Tie });
                }
                k = after;
                continue;
            }
            // the nearest label that ends at or before the comparative
            let Some(&(_, subject)) = labels.iter().rev().find(|(_, f)| f.end <= k) else {
                k = after;
                continue;
            };
            if sentence[subject.end..k].iter().any(is_negation) || sentence.get(after).is_some_and(is_negation) {
                *negated = true;
                k = after;
                continue;
            }
            // "[1] is better than [1]" says nothing usable
            let object = object_after(sentence, after, set);
            if object.is_some_and(|o| o == subject.pref) {
                k = after;
                continue;
            }
            let pref = if polarity > 0 { subject.pref } else { subject.pref.swapped() };
            decisions.push(Decision { tier, sentence: s, pref });
            k = after;
        }
    }
    for tier in [Tier::Strong, Tier::Aspect] {
        let in_tier: Vec<&Decision> = decisions.iter().filter(|d| d.tier == tier).collect();
        if in_tier.is_empty() {
            continue;
        }
        let prefs: Vec<Preference> = in_tier.iter().map(|d| d.pref).collect();
        if let Some(p) = agree(&prefs) {
            return Outcome::Decided(p);
        }
        // disagreement: the last conclusion sentence with comparisons of this tier settles it
        let last = conclusion_sentences.iter().rev().find(|&&s| in_tier.iter().any(|d| d.sentence == s));
        if let Some(&s) = last {
            let prefs: Vec<Preference> = in_tier.iter().filter(|d| d.sentence == s).map(|d| d.pref).collect();
            if let Some(p) = agree(&prefs) {
                return Outcome::Decided(p);
            }
        }
        return Outcome::Conflict(format!(
            "conflicting comparisons: {}",
            prefs.iter().map(|&p| name(p)).collect::<Vec<_>>().join(", ")
        ));
    }
    Outcome::Nothing
}

/// The label after "than"/"over"/"to" following a comparative: `better than [2]`, "preferred over 1".
fn object_after(sentence: &[Tok<'_>], after: usize, set: LabelSet) -> Option<Preference> {
    let mut k = after;
    // allow an aspect word in between: "more accurate than"
    if sentence.get(k).is_some_and(|t| t.is_word_in(POSITIVE_ADJS)) {
        k += 1;
    }
    if !sentence.get(k).is_some_and(|t| t.is_word_in(&["than", "over", "to"])) {
        return None;
    }
    k += 1;
    if sentence.get(k).is_some_and(|t| t.is_word("that")) {
        k += 1;
    }
    label_at(sentence, k, set, Context::Anywhere)
        .or_else(|| label_at(sentence, k + 1, set, Context::Anywhere).filter(|_| sentence[k].is_word("the")))
        .map(|f| f.pref)
        .filter(|p| *p != Preference::Tie)
}

/// "I prefer response 2", `I would choose [1]`, "we pick the first one": the label after the verb.
fn selection_at(sentence: &[Tok<'_>], k: usize, set: LabelSet, negated: &mut bool) -> Option<Preference> {
    if !sentence.get(k)?.is_word_in(SELECTION_VERBS) {
        return None;
    }
    let mut j = k + 1;
    if sentence.get(j).is_some_and(|t| t.is_word_in(&["with", "for"])) {
        j += 1;
    }
    let found = label_at(sentence, j, set, Context::Anywhere)?;
    if found.pref == Preference::Tie {
        return None;
    }
    // "I would not choose [1]", "I can't pick response 2"
    let start = k.saturating_sub(3);
    if sentence[start..k].iter().any(is_negation) {
        *negated = true;
        return None;
    }
    Some(found.pref)
}
