//! A LLaVA-OneVision checkpoint with everything needed to talk to it: the model, tokenizer, chat template
//! and image processor settings. It turns a prompt with `<image>` / `<video>` placeholders and decoded
//! images and video frames into what transformers' processor makes (pixel values, expanded tokens) and
//! generates from it.

use std::path::Path;

use serde::Serialize;
use tch::Tensor;

use crate::chat::{ChatOptions, ChatTemplate};
use crate::error::Result;
use crate::generate::{Completion, GenerateConfig, generate_with};
use crate::llava::preprocess::{ImageProcessorConfig, preprocess, preprocess_base, preprocess_video};
use crate::llava::tokens::{expand_image_tokens, expand_video_tokens, image_token_count, video_token_count};
use crate::llava::{ImageInput, LlavaOnevision};
use crate::options::LoadOptions;
use crate::text_model::{decode_completions, optional_chat_template, stop_token_ids};
use crate::tokenizer::TextTokenizer;

pub struct VisionModel {
    pub model: LlavaOnevision,
    pub tokenizer: TextTokenizer,
    /// `None` when the checkpoint has no chat template.
    pub chat_template: Option<ChatTemplate>,
    pub image_processor: ImageProcessorConfig,
}

/// A prompt (with one `<image>` placeholder per image and one `<video>` per video, in order) and its
/// decoded images, each `[3, height, width]` uint8 (`llava::preprocess::decode_image`), and videos, each a
/// list of such frames.
pub struct VisionPrompt<'a> {
    pub text: &'a str,
    pub images: &'a [Tensor],
    pub videos: &'a [Vec<Tensor>],
}

impl<'a> VisionPrompt<'a> {
    pub fn new(text: &'a str, images: &'a [Tensor]) -> Self {
        VisionPrompt { text, images, videos: &[] }
    }
}

/// One prompt as the model takes it: token ids with the `<image>` and `<video>` tokens expanded, per
/// image its pixel values, (height, width) and whether it is tiled, and per video its frames' pixel values.
#[derive(Debug)]
pub struct EncodedPrompt {
    pub input_ids: Vec<u32>,
    pub images: Vec<(Tensor, [i64; 2], bool)>,
    pub videos: Vec<Tensor>,
}

impl EncodedPrompt {
    pub fn image_inputs(&self) -> Vec<ImageInput<'_>> {
        self.images
            .iter()
            .map(|(pv, size, tiled)| ImageInput { pixel_values: pv, size: *size, tiled: *tiled })
            .collect()
    }
}

impl VisionModel {
    /// Loads `dir`: `config.json`, weights, `tokenizer.json`, the chat template (optional) and the image
    /// processor settings (`preprocessor_config.json` or `processor_config.json`, else defaults).
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let model = LlavaOnevision::load(dir, opts)?;
        let chat_template = optional_chat_template(dir)?;
        let image_processor = ImageProcessorConfig::from_dir(dir)?;
        Ok(VisionModel { model, tokenizer, chat_template, image_processor })
    }

    /// The prompt text for `messages` (the chat template with the generation prompt; image parts render as
    /// `<image>`), or `plain` for a checkpoint without a template.
    pub fn prompt_text<M: Serialize>(&self, messages: &[M], plain: &str) -> Result<String> {
        match &self.chat_template {
            Some(t) => t.render(messages, &ChatOptions { add_generation_prompt: true, tools: None }),
            None => Ok(plain.to_string()),
        }
    }

    /// Saves the model with its tokenizer, chat template and processor files in the Hugging Face layout.
    pub fn save(&self, out: &Path) -> Result<()> {
        crate::save::save_llava_pretrained(&self.model, out)
    }

    pub fn stop_token_ids(&self) -> Vec<u32> {
        stop_token_ids(self.model.language_model(), &self.tokenizer)
    }

    /// What transformers' `LlavaOnevisionProcessor` makes of `prompt`: one image alone is tiled over the
    /// grid pinpoints; several images in one prompt each keep only their base tile.
    pub fn encode(&self, prompt: &VisionPrompt<'_>) -> Result<EncodedPrompt> {
        let config = self.model.config();
        let tile = config.vision.image_size;
        let tiled = prompt.images.len() == 1;
        let images = prompt
            .images
            .iter()
            .map(|image| {
                let (pv, size) = if tiled {
                    preprocess(image, &config.image_grid_pinpoints, tile, &self.image_processor)?
                } else {
                    preprocess_base(image, tile, &self.image_processor)?
                };
                Ok((pv, size, tiled))
            })
            .collect::<Result<Vec<_>>>()?;
        let videos = prompt
            .videos
            .iter()
            .map(|frames| preprocess_video(frames, tile, &self.image_processor))
            .collect::<Result<Vec<_>>>()?;
        let counts: Vec<i64> = images.iter().map(|(_, size, _)| image_token_count(config, *size, !tiled)).collect();
        let text = expand_image_tokens(prompt.text, &counts)?;
        let counts: Vec<i64> = videos.iter().map(|v| video_token_count(config, v.size()[0])).collect();
        let text = expand_video_tokens(&text, &counts)?;
        let input_ids = self.tokenizer.encode(&text, false)?;
        Ok(EncodedPrompt { input_ids, images, videos })
    }

    /// Generates for every prompt (`[prompt][sample]`, decoded text and tokens); the K samples of a
    /// prompt share one prefill, image features included.
    pub fn generate_text(
        &self,
        prompts: &[VisionPrompt<'_>],
        cfg: &GenerateConfig,
    ) -> Result<Vec<Vec<(String, Completion)>>> {
        let encoded: Vec<EncodedPrompt> = prompts.iter().map(|p| self.encode(p)).collect::<Result<_>>()?;
        let ids: Vec<&[u32]> = encoded.iter().map(|e| e.input_ids.as_slice()).collect();
        // left padding keeps the rows in order, so the images fill the `<image>` positions row by row
        let images: Vec<ImageInput<'_>> = encoded.iter().flat_map(EncodedPrompt::image_inputs).collect();
        let videos: Vec<Tensor> = encoded.iter().flat_map(|e| e.videos.iter().map(Tensor::shallow_clone)).collect();
        let lm = self.model.language_model();
        let embed = |batch_ids: &Tensor| self.model.embed_multimodal(batch_ids, &images, &videos);
        decode_completions(&self.tokenizer, generate_with(lm, &ids, cfg, &embed)?)
    }
}
