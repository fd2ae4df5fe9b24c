//! Critic consistency under position swap: a critic that judges (i, j) as "first better" should judge
//! (j, i) as "second better", and a tie both ways.

use crate::verdict::Preference;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

/// How often the verdicts on the two orders of a pair agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consistency {
    /// Unordered pairs judged in both orders (each counted once).
    pub checked: usize,
    /// Of those, pairs whose two verdicts agree (First on (i, j) with Second on (j, i), Tie with Tie).
    pub consistent: usize,
    /// Ordered pairs whose mirror was not judged (or not parsed), so they could not be checked.
    pub unmatched: usize,
    /// Repeated verdicts on an ordered pair already seen; only the first one is used.
    pub duplicates: usize,
}

impl Consistency {
    /// `consistent / checked`; `None` when nothing could be checked.
    pub fn rate(&self) -> Option<f64> {
        (self.checked > 0).then(|| self.consistent as f64 / self.checked as f64)
    }
}

/// Check position consistency over verdicts on ordered pairs `(i, j, preference)`, where `i` was shown
/// first. Pairs with `i == j` are ignored. Unparsed verdicts should simply be left out (they then show
/// up as `unmatched` for their mirror).
pub fn consistency(judged: &[(usize, usize, Preference)]) -> Consistency {
    let mut seen: BTreeMap<(usize, usize), Preference> = BTreeMap::new();
    let mut report = Consistency::default();
    for &(i, j, p) in judged {
        if i == j {
            continue;
        }
        match seen.entry((i, j)) {
            Entry::Occupied(_) => report.duplicates += 1,
            Entry::Vacant(slot) => {
                slot.insert(p);
            }
        }
    }
    for (&(i, j), &p) in &seen {
        match seen.get(&(j, i)) {
            Some(&mirror) if i < j => {
                report.checked += 1;
                if mirror == p.swapped() {
                    report.consistent += 1;
                }
            }
            Some(_) => {}
            None => report.unmatched += 1,
        }
    }
    report
}
