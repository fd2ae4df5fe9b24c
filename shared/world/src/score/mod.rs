//! Scoring responses against the truth: mentions parsed from descriptions and matched to objects
//! (precision, recall, F1, CHAIR-style hallucination rate), exact match for short answers, and the
//! oracle that says which of two responses is better.

mod description;
mod matching;
mod oracle;
mod parse;
mod short;

pub use description::{DescriptionScore, Summary, score_description, summarise};
pub use matching::{compatible, match_mentions};
pub use oracle::{better, is_correct};
pub use parse::{Mention, parse_mentions};
pub use short::{exact_match, normalise_answer};
