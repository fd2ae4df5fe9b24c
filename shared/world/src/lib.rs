//! A synthetic visual world with ground truth, for proving that criticloop's loop (a policy samples
//! responses, a critic judges pairs, DPO trains on the best and worst) improves a policy without any
//! downloaded weights: scenes of coloured shapes, their images, questions with known answers, imperfect
//! responses, scoring against the truth, and a tokenizer trained on the world's language.
//!
//! Everything is a pure function of seeds (see [`rng`]). No tch, tokio or sqlx here.

pub mod config;
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
pub use error::{Result, WorldError};
pub use render::{png_bytes, render};
pub use rng::SplitMix64;
pub use scene::{Colour, Object, Relation, Scene, Shape, Size};
pub use tasks::{Family, Item, Truth, World};
