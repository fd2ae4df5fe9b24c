//! `config.json` of a `Qwen2ForCausalLM` checkpoint, with the exact keys transformers writes.
//!
//! Defaults follow `transformers/models/qwen2/configuration_qwen2.py` (5.x) where the file may omit a key;
//! the model's dimensions have no default here, since a config without them is not one we can trust.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::error::{ModelError, Result, read_json};

#[derive(Debug, Clone, Deserialize)]
struct RawQwen2Config {
    model_type: Option<String>,
    vocab_size: i64,
    hidden_size: i64,
    intermediate_size: i64,
    num_hidden_layers: i64,
    num_attention_heads: i64,
    /// transformers: `None` means `num_attention_heads` (no GQA).
    num_key_value_heads: Option<i64>,
    head_dim: Option<i64>,
    /// transformers default: "silu".
    #[serde(default = "default_act")]
    hidden_act: String,
    /// transformers default: 32768.
    #[serde(default = "default_max_pos")]
    max_position_embeddings: i64,
    /// transformers default: 1e-6.
    #[serde(default = "default_eps")]
    rms_norm_eps: f64,
    /// transformers <= 4.x top-level key; 5.x writes `rope_parameters.rope_theta`. Default 10000.0.
    rope_theta: Option<f64>,
    rope_scaling: Option<Value>,
    rope_parameters: Option<Value>,
    #[serde(default)]
    tie_word_embeddings: bool,
    #[serde(default)]
    use_sliding_window: bool,
    eos_token_id: Option<Value>,
    pad_token_id: Option<Value>,
}

fn default_act() -> String {
    "silu".into()
}
fn default_max_pos() -> i64 {
    32768
}
fn default_eps() -> f64 {
    1e-6
}

/// The validated configuration of a Qwen2 language model.
#[derive(Debug, Clone)]
pub struct Qwen2Config {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub num_key_value_heads: i64,
    pub head_dim: i64,
    pub max_position_embeddings: i64,
    pub rms_norm_eps: f64,
    pub rope_theta: f64,
    pub tie_word_embeddings: bool,
    pub eos_token_ids: Vec<i64>,
    pub pad_token_id: Option<i64>,
    /// The file as read, so that saving keeps every key transformers wrote.
    pub raw: Value,
}

impl Qwen2Config {
    pub fn from_file(path: &Path) -> Result<Self> {
        let raw: Value = read_json(path)?;
        Self::from_value(raw, path)
    }

    pub fn from_value(raw: Value, path: &Path) -> Result<Self> {
        let c: RawQwen2Config = serde_json::from_value(raw.clone())
            .map_err(|source| ModelError::Json { path: path.to_path_buf(), source })?;
        let bad =
            |field: &'static str, message: String| ModelError::Config { path: path.to_path_buf(), field, message };
        let unsupported = |message: String| ModelError::Unsupported { path: path.to_path_buf(), message };
        if let Some(t) = &c.model_type
            && t != "qwen2"
        {
            return Err(unsupported(format!("model_type `{t}` (this loader reads qwen2)")));
        }
        if c.hidden_act != "silu" {
            return Err(unsupported(format!("hidden_act `{}`", c.hidden_act)));
        }
        if c.use_sliding_window {
            return Err(unsupported("use_sliding_window = true".into()));
        }
        for (field, v) in [
            ("vocab_size", c.vocab_size),
            ("hidden_size", c.hidden_size),
            ("intermediate_size", c.intermediate_size),
            ("num_hidden_layers", c.num_hidden_layers),
            ("num_attention_heads", c.num_attention_heads),
            ("max_position_embeddings", c.max_position_embeddings),
        ] {
            if v <= 0 {
                return Err(bad(field, format!("must be positive, is {v}")));
            }
        }
        let kv = c.num_key_value_heads.unwrap_or(c.num_attention_heads);
        if kv <= 0 || c.num_attention_heads % kv != 0 {
            return Err(bad(
                "num_key_value_heads",
                format!("{kv} does not divide num_attention_heads {}", c.num_attention_heads),
            ));
        }
        let head_dim = match c.head_dim {
            Some(d) => d,
            None if c.hidden_size % c.num_attention_heads == 0 => c.hidden_size / c.num_attention_heads,
            None => {
                return Err(bad("hidden_size", format!("not divisible by {} heads", c.num_attention_heads)));
            }
        };
        if head_dim <= 0 || head_dim % 2 != 0 {
            return Err(bad("head_dim", format!("must be positive and even, is {head_dim}")));
        }
        let rope_theta = rope_theta(&c, path)?;
        Ok(Qwen2Config {
            vocab_size: c.vocab_size,
            hidden_size: c.hidden_size,
            intermediate_size: c.intermediate_size,
            num_hidden_layers: c.num_hidden_layers,
            num_attention_heads: c.num_attention_heads,
            num_key_value_heads: kv,
            head_dim,
            max_position_embeddings: c.max_position_embeddings,
            rms_norm_eps: c.rms_norm_eps,
            rope_theta,
            tie_word_embeddings: c.tie_word_embeddings,
            eos_token_ids: token_ids(c.eos_token_id.as_ref()),
            pad_token_id: token_ids(c.pad_token_id.as_ref()).first().copied(),
            raw,
        })
    }
}

/// Plain RoPE only: `rope_scaling` absent (4.x) or `rope_parameters.rope_type == "default"` (5.x).
fn rope_theta(c: &RawQwen2Config, path: &Path) -> Result<f64> {
    let unsupported = |message: String| ModelError::Unsupported { path: PathBuf::from(path), message };
    if let Some(s) = &c.rope_scaling
        && !s.is_null()
        && s.get("rope_type").and_then(Value::as_str).unwrap_or("") != "default"
    {
        return Err(unsupported(format!("rope_scaling {s}")));
    }
    let mut theta = c.rope_theta;
    if let Some(p) = &c.rope_parameters
        && !p.is_null()
    {
        let kind = p.get("rope_type").and_then(Value::as_str).unwrap_or("default");
        if kind != "default" {
            return Err(unsupported(format!("rope_parameters.rope_type `{kind}`")));
        }
        if let Some(t) = p.get("rope_theta").and_then(Value::as_f64) {
            theta = Some(t);
        }
    }
    Ok(theta.unwrap_or(10000.0))
}

fn token_ids(v: Option<&Value>) -> Vec<i64> {
    match v {
        Some(Value::Number(n)) => n.as_i64().into_iter().collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_i64).collect(),
        _ => Vec::new(),
    }
}
