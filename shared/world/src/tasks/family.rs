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

impl std::str::FromStr for Family {
    type Err = String;

    /// A family by its [`name`](Family::name); the error lists the names.
    fn from_str(name: &str) -> Result<Self, String> {
        Family::ALL.into_iter().find(|f| f.name() == name).ok_or_else(|| {
            let names: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
            format!("unknown family `{name}` ({})", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_parse_from_their_names_and_the_error_lists_them() {
        for family in Family::ALL {
            assert_eq!(family.name().parse::<Family>(), Ok(family));
        }
        let err = "unknown family `colours` (colour, count, presence, relation, describe)";
        assert_eq!("colours".parse::<Family>(), Err(err.to_string()));
    }
}
