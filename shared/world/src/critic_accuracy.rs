//! How well a critic's pairwise verdicts agree with a generated world's ground truth: the figures
//! `criticloop-critic-eval` prints, and those the demo reports per round (METHOD.md section 4's pairwise
//! accuracy, with and without ties; position consistency; the share of decided verdicts that invert the
//! ground truth's order, which is what turns into an inverted chosen/rejected pair).

use critic::{Preference, consistency, metrics::pairwise_accuracy};
use serde_json::{Value, json};

use crate::{PairVerdict, Truth};

/// One ordered judgment of a pair of responses: `swapped` is the pair shown in reverse order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OrderedJudgment {
    /// Which unordered pair it belongs to.
    pub pair: usize,
    pub swapped: bool,
    /// Whether the item is a short-answer one (else a description).
    pub short: bool,
    /// The ground truth's verdict on the pair as shown.
    pub oracle: Preference,
    /// The critic's, `None` when its output did not parse.
    pub critic: Option<Preference>,
}

/// The ground truth's verdict as a preference.
pub fn preference(verdict: PairVerdict) -> Preference {
    match verdict {
        PairVerdict::First => Preference::First,
        PairVerdict::Second => Preference::Second,
        PairVerdict::Tie => Preference::Tie,
    }
}

/// The ground truth's preference between two responses as shown (`first` shown first).
pub fn oracle(truth: &Truth, first: &str, second: &str) -> Preference {
    preference(PairVerdict::of(truth, first, second))
}

fn accuracy(judgments: &[&OrderedJudgment]) -> Value {
    let labels: Vec<_> = judgments.iter().map(|j| (j.critic, j.oracle)).collect();
    let acc = pairwise_accuracy(&labels);
    let decided: Vec<_> = judgments
        .iter()
        .filter(|j| j.oracle != Preference::Tie && matches!(j.critic, Some(p) if p != Preference::Tie))
        .collect();
    let inverted = decided.iter().filter(|j| j.critic == Some(j.oracle.swapped())).count();
    json!({
        "judgments": judgments.len(),
        "accuracy_with_ties": acc.with_ties.value(),
        "accuracy_without_ties": acc.without_ties.value(),
        // the judgments that accuracy is over: those where the ground truth prefers one response
        "without_ties_total": acc.without_ties.total,
        "unparsed": acc.unparsed,
        // the verdicts that pick a side where the ground truth does too, and the share that pick the worse one
        "decided": decided.len(),
        "inverted": (!decided.is_empty()).then(|| inverted as f64 / decided.len() as f64),
    })
}

/// The report over all judgments, and per kind of item (`short`, `describe`).
pub fn report(judgments: &[OrderedJudgment]) -> Value {
    let all: Vec<&OrderedJudgment> = judgments.iter().collect();
    let mut out = accuracy(&all);
    let ordered: Vec<(usize, usize, Preference)> = judgments
        .iter()
        .filter_map(|j| {
            let (a, b) = if j.swapped { (2 * j.pair + 1, 2 * j.pair) } else { (2 * j.pair, 2 * j.pair + 1) };
            j.critic.map(|p| (a, b, p))
        })
        .collect();
    let consistency = consistency(&ordered);
    out["position_consistency"] = json!(consistency.rate());
    out["position_checked"] = json!(consistency.checked);
    let count = |p: Preference| judgments.iter().filter(|j| j.oracle == p).count();
    out["oracle"] = json!({
        "first": count(Preference::First),
        "second": count(Preference::Second),
        "tie": count(Preference::Tie),
    });
    for (name, short) in [("short", true), ("describe", false)] {
        let part: Vec<&OrderedJudgment> = judgments.iter().filter(|j| j.short == short).collect();
        out[name] = accuracy(&part);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Preference::{First, Second, Tie};

    fn j(pair: usize, swapped: bool, short: bool, oracle: Preference, critic: Option<Preference>) -> OrderedJudgment {
        OrderedJudgment { pair, swapped, short, oracle, critic }
    }

    #[test]
    fn accuracy_inversions_and_consistency_are_counted_by_hand() {
        let judgments = [
            // pair 0 (short): right both ways
            j(0, false, true, First, Some(First)),
            j(0, true, true, Second, Some(Second)),
            // pair 1 (describe): always says First: inverted once, inconsistent
            j(1, false, false, Second, Some(First)),
            j(1, true, false, First, Some(First)),
            // pair 2 (describe): a tie, called a tie once, unparsed once
            j(2, false, false, Tie, Some(Tie)),
            j(2, true, false, Tie, None),
        ];
        let r = report(&judgments);
        assert_eq!(r["judgments"], 6);
        assert_eq!(r["accuracy_with_ties"], json!(4.0 / 6.0));
        assert_eq!(r["accuracy_without_ties"], json!(3.0 / 4.0));
        assert_eq!(r["without_ties_total"], json!(4));
        assert_eq!(r["unparsed"], 1);
        assert_eq!((r["decided"].clone(), r["inverted"].clone()), (json!(4), json!(0.25)));
        assert_eq!((r["position_checked"].clone(), r["position_consistency"].clone()), (json!(2), json!(0.5)));
        assert_eq!(r["oracle"], json!({"first": 2, "second": 2, "tie": 2}));
        assert_eq!(r["short"]["accuracy_with_ties"], json!(1.0));
        assert_eq!(r["describe"]["accuracy_without_ties"], json!(0.5));
        assert_eq!(r["describe"]["without_ties_total"], json!(2));
        assert_eq!(r["describe"]["inverted"], json!(0.5));
    }

    #[test]
    fn the_oracle_prefers_the_right_short_answer_as_shown() {
        let item = crate::Item::generate(4, Some(crate::Family::Count), &crate::WorldConfig::default()).expect("item");
        let answer = item.answer().expect("a short answer");
        assert_eq!(oracle(&item.truth, answer, "zebra"), First);
        assert_eq!(oracle(&item.truth, "zebra", answer), Second);
        assert_eq!(oracle(&item.truth, "zebra", "giraffe"), Tie);
    }

    #[test]
    fn nothing_decided_reports_no_inversion_rate() {
        let r = report(&[j(0, false, true, Tie, Some(Tie))]);
        assert_eq!(r["inverted"], Value::Null);
        assert_eq!(r["position_consistency"], Value::Null);
    }
}
