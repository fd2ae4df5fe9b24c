//! The model being trained (and the frozen reference): a text-only Qwen2 or a LLaVA-OneVision, chosen by
//! the checkpoint's `config.json`. Both end in the same Qwen2 decoder and head; a LLaVA-OneVision feeds it
//! text embeddings whose `<image>` positions hold the image features, and keeps the graph through the
//! vision tower and projector when they are trained (LLaVA-NeXT's recipe trains all three parts).

use std::path::Path;

use model::llava::preprocess::ImageProcessorConfig;
use model::tch::Tensor;
use model::{Autocast, Dtype, ImageInput, LlavaOnevision, LoadOptions, Qwen2ForCausalLM, StepInput};

use crate::error::Result;

/// Both variants are boxed: a model's handles are large, and they are moved around.
pub enum PolicyModel {
    Text(Box<Qwen2ForCausalLM>),
    Vision { model: Box<LlavaOnevision>, processor: ImageProcessorConfig },
}

/// The images of a micro-batch, in the order of the `<image>` placeholders of its rows.
pub type BatchImages = Vec<(Tensor, [i64; 2], bool)>;

impl PolicyModel {
    /// `llava_onevision` checkpoints load as [`PolicyModel::Vision`], anything else as Qwen2.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        if is_llava(dir)? {
            let model = Box::new(LlavaOnevision::load(dir, opts)?);
            let processor = ImageProcessorConfig::from_dir(dir)?;
            Ok(PolicyModel::Vision { model, processor })
        } else {
            Ok(PolicyModel::Text(Box::new(Qwen2ForCausalLM::load(dir, opts)?)))
        }
    }

    /// Runs the matrix products in a lower precision than the weights (mixed-precision training).
    pub fn set_autocast(&mut self, autocast: Autocast) {
        match self {
            PolicyModel::Text(m) => m.set_autocast(autocast),
            PolicyModel::Vision { model, .. } => model.set_autocast(autocast),
        }
    }

    /// The decoder and head (the whole model for a text policy).
    pub fn language_model(&self) -> &Qwen2ForCausalLM {
        match self {
            PolicyModel::Text(m) => m,
            PolicyModel::Vision { model, .. } => model.language_model(),
        }
    }

    pub fn llava(&self) -> Option<(&LlavaOnevision, &ImageProcessorConfig)> {
        match self {
            PolicyModel::Text(_) => None,
            PolicyModel::Vision { model, processor } => Some((model, processor)),
        }
    }

    pub fn device(&self) -> model::tch::Device {
        self.language_model().device()
    }

    pub fn dtype(&self) -> Dtype {
        self.language_model().dtype()
    }

    /// Every weight under the name it is saved with (`vision_tower.*`, `multi_modal_projector.*`,
    /// `language_model.*` for LLaVA-OneVision): `trainable` prefixes select among these.
    pub fn named_weights(&self) -> Vec<(String, &Tensor)> {
        match self {
            PolicyModel::Text(m) => m.named_weights(),
            PolicyModel::Vision { model, .. } => model.named_weights(),
        }
    }

    /// Final hidden states `[rows, len, hidden]`; `bias` replaces the causal mask (the packed layout).
    /// `images` fill the `<image>` positions in reading order. With `grad`, the autograd graph is kept.
    pub fn hidden(
        &self,
        input: &StepInput<'_>,
        bias: Option<&Tensor>,
        images: &[ImageInput<'_>],
        grad: bool,
    ) -> Result<Tensor> {
        let _guard = (!grad).then(model::tch::no_grad_guard);
        match self {
            PolicyModel::Text(m) => Ok(match (bias, grad) {
                (Some(bias), _) => m.forward_hidden_with_bias(input, bias)?,
                (None, true) => m.forward_hidden_with_grad(input)?,
                (None, false) => m.forward_hidden(input, None)?,
            }),
            PolicyModel::Vision { model, .. } => {
                let embeds = model.embed_with_images_grad(input.input_ids, images)?;
                let lm = model.language_model();
                Ok(lm.forward_embeds_with_grad(&embeds, input.positions, input.attention_mask, bias)?)
            }
        }
    }

    /// Saves the model in the Hugging Face layout, with the tokenizer and processor files of its source.
    pub fn save(&self, out: &Path) -> Result<()> {
        match self {
            PolicyModel::Text(m) => Ok(model::save_pretrained(m, out)?),
            PolicyModel::Vision { model, .. } => Ok(model::save_llava_pretrained(model, out)?),
        }
    }
}

/// Whether `dir/config.json` is a LLaVA-OneVision configuration.
pub fn is_llava(dir: &Path) -> Result<bool> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).map_err(crate::error::io_err(&path))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| crate::error::TrainError::Json { path: path.clone(), source })?;
    Ok(value.get("model_type").and_then(|v| v.as_str()) == Some("llava_onevision"))
}
