//! The critic's prompt templates: LLaVA-Critic's released prompts, the paper's two printed pairwise
//! templates (Table 7), criticloop's adaptations of the 7 benchmarks' pointwise judge prompts, and
//! criticloop's own pairwise pool. Every template has a stable id and declares the [`OutputFormat`]
//! its answers are parsed with.
//!
//! Template text excludes the image: LLaVA-Critic puts the image token first, then a newline, then
//! the prompt (see [`with_image_token`]); the chat template is the backend's business.

mod benchmarks;
mod paper;
mod pool;
mod released;
mod render;

pub use render::{Field, Fields, RenderError, render_text};

use crate::parse::{Mode, OutputFormat};
use serde::Serialize;

/// Where a template's wording comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// LLaVA-Critic-7B model card, exact (typo and trailing space kept).
    Released,
    /// The LLaVA-Critic paper, Table 7 (reconstructed from the typeset text).
    Paper,
    /// criticloop's wording of a benchmark's judge prompt, asking for that benchmark's output format.
    Benchmark,
    /// criticloop's own.
    Criticloop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Template {
    /// Stable id, e.g. `llava-critic/pairwise`, `bench/mmhal`, `pool/criteria-hallucination`.
    pub id: &'static str,
    pub source: Source,
    /// Pairwise templates take `{response1}` and `{response2}`; pointwise ones take `{response}`.
    pub mode: Mode,
    /// How the critic's answer to this template is parsed.
    pub format: OutputFormat,
    pub text: &'static str,
}

impl Template {
    /// Fill the placeholders; an error names the missing field or the unknown placeholder.
    pub fn render(&self, fields: &Fields<'_>) -> Result<String, RenderError> {
        render_text(self.id, self.text, fields)
    }

    /// The fields this template asks for, in order of first appearance. Unknown placeholders are
    /// left out here and reported by [`Template::render`].
    pub fn fields(&self) -> Vec<Field> {
        let mut out: Vec<Field> = Vec::new();
        for slot in render::slots(self.text) {
            if let Some(f) = Field::from_name(slot.name)
                && !out.contains(&f)
            {
                out.push(f);
            }
        }
        out
    }

    pub fn needs_reference(&self) -> bool {
        self.fields().contains(&Field::Reference)
    }
}

/// The released LLaVA-Critic pairwise prompt (the critic's inference prompt).
pub const CRITIC_PAIRWISE: &Template = &released::RELEASED[0];
/// The released LLaVA-Critic pointwise prompt.
pub const CRITIC_POINTWISE: &Template = &released::RELEASED[1];

/// The image token LLaVA-Critic's prompts start with.
pub const IMAGE_TOKEN: &str = "<image>";

/// `<image>\n` followed by the rendered prompt, as LLaVA-Critic is prompted.
pub fn with_image_token(prompt: &str) -> String {
    format!("{IMAGE_TOKEN}\n{prompt}")
}

/// Every template: released, paper, benchmark, pool.
pub fn all() -> impl Iterator<Item = &'static Template> {
    released::RELEASED.iter().chain(paper::PAPER.iter()).chain(benchmarks::BENCHMARKS.iter()).chain(pool::POOL.iter())
}

/// The template with this id.
pub fn get(id: &str) -> Option<&'static Template> {
    all().find(|t| t.id == id)
}

/// The pairwise pool used to diversify critic prompts: the released pairwise prompt, the paper's two
/// Table 7 templates, and criticloop's own.
pub fn pairwise_pool() -> impl Iterator<Item = &'static Template> {
    all().filter(|t| t.mode == Mode::Pairwise)
}

/// The 7 benchmarks' pointwise judge prompts (criticloop's wording, the benchmarks' output formats).
pub fn benchmark_prompts() -> &'static [Template] {
    &benchmarks::BENCHMARKS
}
