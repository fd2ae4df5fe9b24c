//! `Kind`: what an artifact is, which is also the top-level prefix it lives under.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of artifacts. Each kind is a key prefix: `images/ab/abcdef...`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Checked, encoded images (dataset import).
    Image,
    /// Directory manifests of model checkpoints (see [`crate::Manifest`]); their files are `Blob`s.
    Checkpoint,
    /// Preference pair sets handed to trainers.
    PairSet,
    /// Plain content, such as the files a checkpoint manifest lists.
    Blob,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Image, Kind::Checkpoint, Kind::PairSet, Kind::Blob];

    /// The key prefix of this kind, without slashes.
    pub fn prefix(self) -> &'static str {
        match self {
            Kind::Image => "images",
            Kind::Checkpoint => "checkpoints",
            Kind::PairSet => "pairsets",
            Kind::Blob => "blobs",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())
    }
}
