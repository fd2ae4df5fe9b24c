//! The crate's one error type. Every variant names the file, weight or field it is about, so a worker can
//! report a bad checkpoint without a debugger.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is missing ({what})")]
    MissingFile { path: PathBuf, what: &'static str },
    #[error("{path}: invalid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    #[error("{path}: field `{field}`: {message}")]
    Config { path: PathBuf, field: &'static str, message: String },
    #[error("{path}: unsupported: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path}: invalid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    #[error("missing weight `{name}` in {dir}")]
    MissingWeight { name: String, dir: PathBuf },
    #[error("unexpected weight `{name}` in {file}")]
    UnexpectedWeight { name: String, file: PathBuf },
    #[error("weight `{name}` appears twice, in {first} and {second}")]
    DuplicateWeight { name: String, first: PathBuf, second: PathBuf },
    #[error("weight `{name}` in {file} has shape {actual:?}, expected {expected:?}")]
    WeightShape { name: String, file: PathBuf, expected: Vec<i64>, actual: Vec<i64> },
    #[error("weight `{name}` in {file} has unsupported dtype {dtype}")]
    WeightDtype { name: String, file: PathBuf, dtype: String },
    #[error("tokenizer {path}: {message}")]
    Tokenizer { path: PathBuf, message: String },
    #[error("no chat template in {dir} (looked in chat_template.jinja, chat_template.json, tokenizer_config.json)")]
    NoChatTemplate { dir: PathBuf },
    #[error("chat template: {0}")]
    ChatTemplate(String),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("invalid option: {0}")]
    Option(String),
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

pub(crate) fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> ModelError {
    let path = path.into();
    move |source| ModelError::Io { path, source }
}

/// Reads and parses a JSON file, naming it in the error.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|source| ModelError::Json { path: path.to_path_buf(), source })
}
