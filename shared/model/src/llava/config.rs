//! `config.json` of `LlavaOnevisionForConditionalGeneration`. Defaults cite
//! `transformers/models/llava_onevision/configuration_llava_onevision.py` and
//! `transformers/models/siglip/configuration_siglip.py` (5.x).

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::config::Qwen2Config;
use crate::error::{ModelError, Result, read_json};

#[derive(Debug, Clone, Deserialize)]
pub struct SiglipVisionConfig {
    pub hidden_size: i64,
    pub intermediate_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub image_size: i64,
    pub patch_size: i64,
    /// transformers default: 3.
    #[serde(default = "three")]
    pub num_channels: i64,
    /// transformers default: 1e-6.
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    /// transformers default: "gelu_pytorch_tanh".
    #[serde(default = "tanh_gelu")]
    pub hidden_act: String,
    /// transformers default: true; the attention-pooling head is not implemented here.
    #[serde(default = "yes")]
    pub vision_use_head: bool,
}

fn three() -> i64 {
    3
}
fn eps() -> f64 {
    1e-6
}
fn tanh_gelu() -> String {
    "gelu_pytorch_tanh".into()
}
fn yes() -> bool {
    true
}
fn gelu() -> String {
    "gelu".into()
}
fn full() -> String {
    "full".into()
}
fn minus_one() -> i64 {
    -1
}
fn anyres_max_9() -> String {
    "anyres_max_9".into()
}

#[derive(Debug, Clone, Deserialize)]
struct RawLlavaConfig {
    model_type: Option<String>,
    text_config: Value,
    vision_config: SiglipVisionConfig,
    /// transformers default: 151646.
    #[serde(default = "image_token")]
    image_token_index: i64,
    /// transformers default: 151647.
    #[serde(default = "video_token")]
    video_token_index: i64,
    image_grid_pinpoints: Vec<[i64; 2]>,
    #[serde(default = "minus_one")]
    vision_feature_layer: i64,
    #[serde(default = "full")]
    vision_feature_select_strategy: String,
    #[serde(default = "anyres_max_9")]
    vision_aspect_ratio: String,
    #[serde(default = "gelu")]
    projector_hidden_act: String,
    #[serde(default = "yes")]
    multimodal_projector_bias: bool,
}

fn image_token() -> i64 {
    151646
}
fn video_token() -> i64 {
    151647
}

#[derive(Debug, Clone)]
pub struct LlavaOnevisionConfig {
    pub text: Qwen2Config,
    pub vision: SiglipVisionConfig,
    pub image_token_index: i64,
    pub video_token_index: i64,
    /// (height, width) resolutions a large image is tiled into.
    pub image_grid_pinpoints: Vec<[i64; 2]>,
    pub vision_feature_layer: i64,
    /// `anyres_max_N`: features of more than N base tiles are downscaled.
    pub max_num_patches: i64,
    pub multimodal_projector_bias: bool,
    pub raw: Value,
}

impl LlavaOnevisionConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let raw: Value = read_json(path)?;
        let c: RawLlavaConfig = serde_json::from_value(raw.clone())
            .map_err(|source| ModelError::Json { path: path.to_path_buf(), source })?;
        let unsupported = |message: String| ModelError::Unsupported { path: path.to_path_buf(), message };
        if let Some(t) = &c.model_type
            && t != "llava_onevision"
        {
            return Err(unsupported(format!("model_type `{t}` (expected llava_onevision)")));
        }
        if c.vision_feature_select_strategy != "full" {
            return Err(unsupported(format!(
                "vision_feature_select_strategy `{}` (SigLIP towers use `full`)",
                c.vision_feature_select_strategy
            )));
        }
        if c.vision_config.vision_use_head {
            return Err(unsupported("vision_config.vision_use_head = true".into()));
        }
        if c.vision_config.hidden_act != "gelu_pytorch_tanh" || c.projector_hidden_act != "gelu" {
            return Err(unsupported(format!(
                "activations `{}` / `{}`",
                c.vision_config.hidden_act, c.projector_hidden_act
            )));
        }
        let v = &c.vision_config;
        // SigLIP-so400m-patch14-384 has 384 px tiles of 14 px patches: the convolution's 27 x 27 patches
        // leave the last 6 pixels out, so image_size need not be a multiple of patch_size
        if v.patch_size <= 0
            || v.image_size < v.patch_size
            || v.num_attention_heads <= 0
            || v.hidden_size % v.num_attention_heads != 0
        {
            return Err(ModelError::Config {
                path: path.to_path_buf(),
                field: "vision_config",
                message: "patch_size must be positive and at most image_size, hidden_size a multiple of the head count"
                    .into(),
            });
        }
        let max_num_patches = c
            .vision_aspect_ratio
            .strip_prefix("anyres_max_")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| unsupported(format!("vision_aspect_ratio `{}`", c.vision_aspect_ratio)))?;
        if c.image_grid_pinpoints.is_empty() || c.image_grid_pinpoints.iter().flatten().any(|&d| d <= 0) {
            return Err(ModelError::Config {
                path: path.to_path_buf(),
                field: "image_grid_pinpoints",
                message: "must be a non-empty list of positive [height, width]".into(),
            });
        }
        Ok(LlavaOnevisionConfig {
            text: Qwen2Config::from_value(c.text_config, path)?,
            vision: c.vision_config,
            image_token_index: c.image_token_index,
            video_token_index: c.video_token_index,
            image_grid_pinpoints: c.image_grid_pinpoints,
            vision_feature_layer: c.vision_feature_layer,
            max_num_patches,
            multimodal_projector_bias: c.multimodal_projector_bias,
            raw,
        })
    }
}
