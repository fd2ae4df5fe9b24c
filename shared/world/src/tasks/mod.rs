//! Tasks with ground truth: short questions with one-word answers, and descriptions.

mod family;
mod item;
mod question;

pub use family::Family;
pub use item::{Item, Truth, World};
pub use question::{DESCRIBE_PROMPT, number_word};
