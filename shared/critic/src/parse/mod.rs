//! Parsers from critic text to verdicts. Each output format names the convention its prompt asks for;
//! every parser returns a verdict or [`Parsed::Unparsed`] with the reason, never a silent default.
//! The benchmarks' own lenient fallbacks (which do default) are in [`compat`], kept apart on purpose.

mod caption;
pub mod compat;
mod llava_bench;
mod mmhal;
mod mmvet;
pub(crate) mod normalize;
mod number;
mod pairwise;
mod pointwise;
mod refomb;
mod score_text;
mod wildvision;

pub use pairwise::LabelSet;

use crate::verdict::Parsed;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// LLaVA-Critic's pairwise convention with numbered responses: `The better response: [1].` /
    /// `[2].` / "Two responses are equally good." (also `[first]` / `[second]`), and free text such as
    /// "Response 1 is better" or "the second answer is more accurate".
    CriticPairwise,
    /// Pairwise with lettered responses ("Response A" / "Response B"), as in the paper's Table 7
    /// template 1: "Response B is better", `[A]`, "Two responses are equally good.", free text.
    PairwiseLetters,
    /// LLaVA-Critic's pointwise convention: a score out of 100 somewhere in the text
    /// ("Score: 75", "75/100", "75 out of 100", "Final Score: 75").
    CriticPointwise,
    /// LLaVA-in-the-Wild: the first line holds two scores 1-10 (reference answer, then model).
    LlavaWild,
    /// LLaVA-Wilder: the LLaVA-in-the-Wild output format.
    LlavaWilder,
    /// MMHal-Bench: exactly one `Rating: s`, s in 0..=6.
    #[serde(rename = "mmhal")]
    MmHal,
    /// MM-Vet: the first token is a correctness score in [0, 1].
    #[serde(rename = "mmvet")]
    MmVet,
    /// WildVision-Bench: one distinct `[[A>>B]]` / `[[A>B]]` / `[[A=B]]` / `[[B>A]]` / `[[B>>A]]`.
    #[serde(rename = "wildvision")]
    WildVision,
    /// RefoMB: the first of `[[A]]` (A better), `[[B]]` (B better), `[[C]]` (tie).
    #[serde(rename = "refomb")]
    RefoMb,
    /// Image detailed captioning: the last "Final Score: N", N out of 100.
    DetailedCaption,
}

/// Whether a format judges one response or compares two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Pointwise,
    Pairwise,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 10] = [
        OutputFormat::CriticPairwise,
        OutputFormat::PairwiseLetters,
        OutputFormat::CriticPointwise,
        OutputFormat::LlavaWild,
        OutputFormat::LlavaWilder,
        OutputFormat::MmHal,
        OutputFormat::MmVet,
        OutputFormat::WildVision,
        OutputFormat::RefoMb,
        OutputFormat::DetailedCaption,
    ];

    /// What the parsed verdict is about. LLaVA-W/Wilder, WildVision and RefoMB compare the judged
    /// response against a fixed reference shown first, so their verdicts are pairwise in form.
    pub fn mode(self) -> Mode {
        match self {
            OutputFormat::CriticPointwise
            | OutputFormat::MmHal
            | OutputFormat::MmVet
            | OutputFormat::DetailedCaption => Mode::Pointwise,
            OutputFormat::CriticPairwise
            | OutputFormat::PairwiseLetters
            | OutputFormat::LlavaWild
            | OutputFormat::LlavaWilder
            | OutputFormat::WildVision
            | OutputFormat::RefoMb => Mode::Pairwise,
        }
    }

    /// The inclusive range of [`crate::Verdict::Score`] values (or of each `ScorePair` score) this
    /// format produces; `None` for formats without scores.
    pub fn score_range(self) -> Option<(f64, f64)> {
        match self {
            OutputFormat::CriticPointwise | OutputFormat::DetailedCaption => Some((0.0, 100.0)),
            OutputFormat::LlavaWild | OutputFormat::LlavaWilder => Some((1.0, 10.0)),
            OutputFormat::MmHal => Some((0.0, 6.0)),
            OutputFormat::MmVet => Some((0.0, 1.0)),
            OutputFormat::CriticPairwise
            | OutputFormat::PairwiseLetters
            | OutputFormat::WildVision
            | OutputFormat::RefoMb => None,
        }
    }
}

/// Parse critic output written for `format`.
pub fn parse(format: OutputFormat, text: &str) -> Parsed {
    match format {
        OutputFormat::CriticPairwise => pairwise::parse(text, LabelSet::Numbers),
        OutputFormat::PairwiseLetters => pairwise::parse(text, LabelSet::Letters),
        OutputFormat::CriticPointwise => pointwise::parse(text),
        OutputFormat::LlavaWild | OutputFormat::LlavaWilder => llava_bench::parse(text),
        OutputFormat::MmHal => mmhal::parse(text),
        OutputFormat::MmVet => mmvet::parse(text),
        OutputFormat::WildVision => wildvision::parse(text),
        OutputFormat::RefoMb => refomb::parse(text),
        OutputFormat::DetailedCaption => caption::parse(text),
    }
}
