//! Pairwise accuracy against reference labels (METHOD.md section 4): with ties (three classes) and
//! without ties (pairs whose reference label is a tie are dropped).

use crate::verdict::Preference;
use serde::{Deserialize, Serialize};

/// `hits` out of `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fraction {
    pub hits: usize,
    pub total: usize,
}

impl Fraction {
    /// `hits / total`; `None` when `total` is 0.
    pub fn value(&self) -> Option<f64> {
        (self.total > 0).then(|| self.hits as f64 / self.total as f64)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PairwiseAccuracy {
    /// All pairs; the judge must get first / second / tie right.
    pub with_ties: Fraction,
    /// Pairs whose reference label is not a tie; a judge's tie on them is a miss.
    pub without_ties: Fraction,
    /// Pairs the judge's output could not be parsed for; counted as misses in both.
    pub unparsed: usize,
}

/// Accuracy of `(judge, reference)` labels; a `None` judge label is unparsed output.
pub fn pairwise_accuracy(items: &[(Option<Preference>, Preference)]) -> PairwiseAccuracy {
    let mut acc = PairwiseAccuracy::default();
    for &(judge, reference) in items {
        let hit = judge == Some(reference);
        acc.unparsed += usize::from(judge.is_none());
        acc.with_ties.total += 1;
        acc.with_ties.hits += usize::from(hit);
        if reference != Preference::Tie {
            acc.without_ties.total += 1;
            acc.without_ties.hits += usize::from(hit);
        }
    }
    acc
}
