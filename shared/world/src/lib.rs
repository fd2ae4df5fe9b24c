//! A synthetic visual world with ground truth, for proving that criticloop's loop (a policy samples
//! responses, a critic judges pairs, DPO trains on the best and worst) improves a policy without any
//! downloaded weights. Everything is a pure function of seeds ([`rng::SplitMix64`]); no tch, tokio or sqlx.
//!
//! - [`scene`]: shapes, colours, sizes; [`Scene::generate`] places distinct (colour, shape) objects on a
//!   grid of patch-sized cells (a small object in one cell, a large one in 2 x 2), listed in reading order.
//! - [`mod@render`]: a scene as an RGB image on a dark background; [`png_bytes`].
//! - [`tasks`]: [`Item::generate`] and [`World::items`]: colour, count, presence and relation questions
//!   with one-word answers, and descriptions, each with its [`Truth`].
//! - [`text`]: descriptions in a few phrasings, objects in reading order, and imperfect sampled responses.
//! - [`score`]: mentions parsed from text and matched to objects (precision, recall, F1, hallucination
//!   rate), exact match of short answers, and the oracle [`better`].
//! - [`tokenizer`]: a byte-level BPE tokenizer trained on the world's language, saved as a Qwen2-style
//!   folder.
//! - [`dataset`]: items as criticloop's JSONL import format, and the truth read back from a row.

pub mod config;
pub mod critic_accuracy;
pub mod critic_data;
pub mod dataset;
pub mod error;
pub mod render;
pub mod rng;
pub mod scene;
pub mod score;
pub mod tasks;
pub mod text;
pub mod tokenizer;

pub use config::WorldConfig;
pub use critic_data::{PairVerdict, pairwise_copies, pairwise_judgment, pointwise_copy, pointwise_judgment};
pub use dataset::{parse_truth, write_jsonl};
pub use error::{Result, WorldError};
pub use render::{png_bytes, render};
pub use rng::SplitMix64;
pub use scene::{CELLS_ACROSS, Colour, Object, Relation, Scene, Shape, Size, cell_side};
pub use score::{
    DescriptionScore, Mention, Summary, better, exact_match, parse_mentions, score_description, summarise,
};
pub use tasks::{Family, Item, Truth, World};
pub use text::{describe, describe_imperfect, listed_answer, sample_response, short_phrasings};
pub use tokenizer::{TokenizerSettings, build_tokenizer, save_tokenizer};
