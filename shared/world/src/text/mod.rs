//! Response text: canonical descriptions in a few phrasings, imperfect responses sampled for training a
//! middling policy and building critic data, and listed short answers (the scene read out first).

mod describe;
mod listing;
mod positions;
mod sample;

pub(crate) use describe::join_and;
pub use describe::{Phrasing, describe, describe_imperfect, describe_varied, describe_with};
pub(crate) use listing::{in_reading_order, keyed_name};
pub use listing::{listed_answer, listed_with, listing, listing_and_lookup};
pub use positions::{positioned_listing, relation_listed_answer, relation_listed_with};
pub use sample::{hallucination, sample_response, shape_swapped, short_phrasings, wrong_answer};
