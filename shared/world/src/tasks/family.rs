//! The kinds of task.

use serde::{Deserialize, Serialize};

/// A task family. All but `Describe` have a one-word ground-truth answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// "What colour is the square?" → "red" (asked only of a shape that occurs once).
    Colour,
    /// "How many circles are there?" → "two" (a number word, "zero" to "nine").
    Count,
    /// "Is there a blue triangle?" → "yes" / "no".
    Presence,
    /// "Is the red circle left of the blue square?" → "yes" / "no" (asked only when the gap is clear).
    Relation,
    /// "Describe everything in the image." → no short answer; the scene's objects are the truth.
    Describe,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Colour, Family::Count, Family::Presence, Family::Relation, Family::Describe];

    /// The lower-case name used in JSON ("colour", ..., "describe").
    pub fn name(self) -> &'static str {
        match self {
            Family::Colour => "colour",
            Family::Count => "count",
            Family::Presence => "presence",
            Family::Relation => "relation",
            Family::Describe => "describe",
        }
    }

    /// Whether the family has a one-word answer (everything but `Describe`).
    pub fn is_short(self) -> bool {
        self != Family::Describe
    }
}
