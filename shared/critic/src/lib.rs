//! The critic's pure core: what a verdict is, how critic text becomes one, how verdicts become rewards
//! and preference pairs, the prompt templates the critic is asked with, and the metrics a judge is
//! evaluated by. No I/O: every function here is deterministic and cheap to test.

pub mod agreement;
pub mod baselines;
pub mod consistency;
pub mod metrics;
pub mod parse;
pub mod reward;
pub mod templates;
pub mod verdict;

pub use consistency::{Consistency, consistency};
pub use parse::{Mode, OutputFormat, parse};
pub use reward::{PairChoice, best_worst, pointwise_pairs, pointwise_relative_score, relative_score, rewards};
pub use templates::{Fields, RenderError, Template};
pub use verdict::{Parsed, Preference, Verdict};
