//! `Format` (what the file is) and `RowKind` (what its rows are for).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Component, Path};
use std::str::FromStr;

/// The file formats `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A JSON array of LLaVA records `{id, image, conversations: [{from, value}]}`; images in a folder.
    LlavaJson,
    /// One JSON record per line: `id`, `image` (path, `data:` URI or absent), `question` or `conversations`.
    Jsonl,
    /// Parquet with `id`, `conversations` (or `question`), optional `source` and `image` (the Hugging Face
    /// datasets Image struct `{bytes, path}`, plain binary, or a path string): LLaVA-Critic-113k's layout.
    Parquet,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::LlavaJson => "llava-json",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown format {0:?}: expected llava-json, jsonl or parquet")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "llava-json" => Ok(Format::LlavaJson),
            "jsonl" => Ok(Format::Jsonl),
            "parquet" => Ok(Format::Parquet),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// What an imported row is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    /// An instruction (image + question) for the policy to answer.
    Prompt,
    /// Critic training data: a pointwise judgment conversation.
    CriticPointwise,
    /// Critic training data: a pairwise judgment conversation.
    CriticPairwise,
}

impl RowKind {
    /// The kind a path implies in the LLaVA-Critic-113k layout (`pairwise/train-*.parquet`,
    /// `pointwise/...`): a directory named `pairwise` or `pointwise`; `Prompt` otherwise.
    pub fn infer_from_path(path: &Path) -> RowKind {
        let parent = path.parent().unwrap_or(Path::new(""));
        let mut kind = RowKind::Prompt;
        for component in parent.components() {
            if let Component::Normal(name) = component {
                match name.to_str() {
                    Some("pairwise") => kind = RowKind::CriticPairwise,
                    Some("pointwise") => kind = RowKind::CriticPointwise,
                    _ => {}
                }
            }
        }
        kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_by_their_cli_names_and_kinds_follow_the_critic_layout() {
        for format in [Format::LlavaJson, Format::Jsonl, Format::Parquet] {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
        }
        assert!("csv".parse::<Format>().is_err());
        assert_eq!(RowKind::infer_from_path(Path::new("d/pairwise/train-0.parquet")), RowKind::CriticPairwise);
        assert_eq!(RowKind::infer_from_path(Path::new("d/pointwise/train-0.parquet")), RowKind::CriticPointwise);
        assert_eq!(RowKind::infer_from_path(Path::new("d/pairwise.parquet")), RowKind::Prompt);
    }
}
