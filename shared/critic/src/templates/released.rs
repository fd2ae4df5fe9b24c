//! LLaVA-Critic-7B's released prompts (METHOD.md section 1), with criticloop's placeholder names for the
//! model card's `{q}`, `{r1}`, `{r2}`, `{r}`. The pointwise prompt's "answer answers" and trailing space
//! after the last newline are in the original.

use super::{Source, Template};
use crate::parse::{Mode, OutputFormat};

pub(super) static RELEASED: [Template; 2] = [
    Template {
        id: "llava-critic/pairwise",
        source: Source::Released,
        mode: Mode::Pairwise,
        format: OutputFormat::CriticPairwise,
        text: "Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate the quality of the answers provided by a Large Multimodal Model (LMM). Determine which answer is better and explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [{question}]\nThe first response: [{response1}]\nThe second response: [{response2}]\nASSISTANT:\n",
    },
    Template {
        id: "llava-critic/pointwise",
        source: Source::Released,
        mode: Mode::Pointwise,
        format: OutputFormat::CriticPointwise,
        text: "Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate the quality of answer answers provided by a Large Multimodal Model (LMM). Score the response out of 100 and explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [{question}]\nThe LMM response: [{response}]\nASSISTANT:\n ",
    },
];
