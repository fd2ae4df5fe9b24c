//! What can go wrong building the world, and what the caller should do about it.

/// Errors of this crate. `InvalidConfig` and `Impossible` are the caller's to fix (change the
/// configuration or the family asked for); the others report I/O or a library's failure.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("invalid world configuration: {0}")]
    InvalidConfig(String),
    /// No scene drawn for this seed allowed the question family (e.g. relations with one object).
    #[error("no scene for seed {seed} allows a {family} question")]
    Impossible { seed: u64, family: &'static str },
    #[error("encoding the image: {0}")]
    Image(#[from] image::ImageError),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    #[error("tokenizer: {0}")]
    Tokenizer(String),
}

pub type Result<T, E = WorldError> = std::result::Result<T, E>;
