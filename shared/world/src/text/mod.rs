//! Response text: canonical descriptions in a few phrasings, and imperfect responses sampled for training
//! a middling policy and building critic data.

mod describe;
mod sample;

pub(crate) use describe::join_and;
pub use describe::{Phrasing, describe, describe_imperfect, describe_varied, describe_with};
pub use sample::{hallucination, sample_response, wrong_answer};
