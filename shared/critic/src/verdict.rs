use serde::{Deserialize, Serialize};

/// What a critic said about one judged item.
///
/// Pairwise verdicts are about the pair as shown: "first" is the response shown first (y_i of the
/// ordered pair (i, j)), "second" the one shown second (y_j).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Pairwise: the response shown first is better.
    First,
    /// Pairwise: the response shown second is better.
    Second,
    /// Pairwise: neither is better.
    Tie,
    /// Pointwise: a score on the format's own scale (see [`crate::OutputFormat::score_range`]).
    Score { value: f64 },
    /// Pairwise with strength (WildVision-Bench): -2 first much better, -1 first better, 0 tie,
    /// +1 second better, +2 second much better.
    Graded { value: i8 },
    /// Two scores given in one judgment (LLaVA-in-the-Wild, LLaVA-Wilder): the first-shown answer's
    /// score (the reference answer in those benchmarks), then the second's.
    ScorePair { first: f64, second: f64 },
}

/// Which of two shown responses a verdict prefers, stripped of strength and scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preference {
    First,
    Second,
    Tie,
}

impl Preference {
    /// The same judgment seen with the two responses swapped.
    pub fn swapped(self) -> Self {
        match self {
            Preference::First => Preference::Second,
            Preference::Second => Preference::First,
            Preference::Tie => Preference::Tie,
        }
    }
}

impl Verdict {
    /// The preference a pairwise verdict expresses; `None` for a lone pointwise score.
    pub fn preference(&self) -> Option<Preference> {
        match *self {
            Verdict::First => Some(Preference::First),
            Verdict::Second => Some(Preference::Second),
            Verdict::Tie => Some(Preference::Tie),
            Verdict::Graded { value } => Some(match value.signum() {
                -1 => Preference::First,
                1 => Preference::Second,
                _ => Preference::Tie,
            }),
            Verdict::ScorePair { first, second } => match first.partial_cmp(&second) {
                Some(std::cmp::Ordering::Greater) => Some(Preference::First),
                Some(std::cmp::Ordering::Less) => Some(Preference::Second),
                Some(std::cmp::Ordering::Equal) => Some(Preference::Tie),
                None => None,
            },
            Verdict::Score { .. } => None,
        }
    }
}

/// The outcome of parsing critic text: a verdict, or an explicit refusal with the reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Parsed {
    Verdict { verdict: Verdict },
    Unparsed { reason: String },
}

impl Parsed {
    pub fn verdict(&self) -> Option<&Verdict> {
        match self {
            Parsed::Verdict { verdict } => Some(verdict),
            Parsed::Unparsed { .. } => None,
        }
    }

    /// Why the text could not be parsed; `None` for a verdict.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Parsed::Verdict { .. } => None,
            Parsed::Unparsed { reason } => Some(reason),
        }
    }

    pub(crate) fn of(verdict: Verdict) -> Self {
        Parsed::Verdict { verdict }
    }

    pub(crate) fn unparsed(reason: impl Into<String>) -> Self {
        Parsed::Unparsed { reason: reason.into() }
    }
}
