//! The crate's error type. Every variant names the pair, file or option it is about.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: invalid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("invalid training option `{option}`: {message}")]
    Config { option: &'static str, message: String },
    #[error("{path}: no usable pairs ({bad} malformed)")]
    NoPairs { path: PathBuf, bad: usize },
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: PathBuf, message: String },
    #[error("model: {0}")]
    Model(#[from] model::ModelError),
    #[error("torch: {0}")]
    Torch(#[from] model::tch::TchError),
}

pub type Result<T, E = TrainError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TrainError {
    let path = path.into();
    move |source| TrainError::Io { path, source }
}

pub(crate) fn config_err(option: &'static str, message: impl Into<String>) -> TrainError {
    TrainError::Config { option, message: message.into() }
}
