//! `LlavaOnevisionForConditionalGeneration`: SigLIP vision tower, two-layer projector, anyres feature
//! packing with the image-newline embedding, and the Qwen2 decoder fed with text embeddings whose
//! `<image>` positions hold the image features. `preprocess` makes the pixel values as transformers' image
//! processor does, `tokens` expands the `<image>` placeholders of a prompt as its processor does.

pub mod anyres;
pub mod config;
pub mod preprocess;
pub mod siglip;
pub mod tokens;

use std::path::Path;

use tch::{Kind, Tensor};

pub use config::{LlavaOnevisionConfig, SiglipVisionConfig};
use siglip::SiglipVisionTower;

use crate::autocast::Autocast;
use crate::error::{ModelError, Result};
use crate::options::LoadOptions;
use crate::qwen2::{Linear, Qwen2ForCausalLM, positions_from_mask};
use crate::weights::WeightSource;

/// One image as the processor prepares it.
pub struct ImageInput<'a> {
    /// `[tiles, 3, size, size]`: the base image, then the grid's tiles row by row.
    pub pixel_values: &'a Tensor,
    /// The original (height, width).
    pub size: [i64; 2],
    /// Tiled over the grid pinpoints (an image alone in its prompt); `false`: the base tile only (one of
    /// several images in a prompt, which the processor does not tile).
    pub tiled: bool,
}

impl<'a> ImageInput<'a> {
    /// The only image of its prompt: base tile and grid tiles.
    pub fn tiled(pixel_values: &'a Tensor, size: [i64; 2]) -> Self {
        ImageInput { pixel_values, size, tiled: true }
    }

    /// One of several images of a prompt: the base tile alone.
    pub fn base_only(pixel_values: &'a Tensor, size: [i64; 2]) -> Self {
        ImageInput { pixel_values, size, tiled: false }
    }
}

pub struct LlavaOnevision {
    config: LlavaOnevisionConfig,
    vision_tower: SiglipVisionTower,
    linear_1: Linear,
    linear_2: Linear,
    image_newline: Tensor,
    language_model: Qwen2ForCausalLM,
    autocast: Autocast,
}

impl LlavaOnevision {
    /// Loads a checkpoint saved by transformers (`language_model.model.*`, `language_model.lm_head`,
    /// `vision_tower.*` or `vision_tower.vision_model.*`, `multi_modal_projector.*`, `image_newline`),
    /// strictly.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(ModelError::MissingFile { path: config_path, what: "the model configuration" });
        }
        let config = LlavaOnevisionConfig::from_file(&config_path)?;
        let mut w = WeightSource::open(dir, opts.dtype.kind(), opts.device)?;
        let vision_prefix = if w.contains("vision_tower.vision_model.embeddings.patch_embedding.weight") {
            "vision_tower.vision_model"
        } else {
            "vision_tower"
        };
        let vision_tower = SiglipVisionTower::load(config.vision.clone(), &mut w, vision_prefix)?;
        let (vh, th) = (config.vision.hidden_size, config.text.hidden_size);
        let bias = config.multimodal_projector_bias;
        let linear_1 = Linear::load(&mut w, "multi_modal_projector.linear_1", th, vh, bias)?;
        let linear_2 = Linear::load(&mut w, "multi_modal_projector.linear_2", th, th, bias)?;
        let image_newline = w.take("image_newline", &[th])?;
        let language_model = Qwen2ForCausalLM::from_source(
            config.text.clone(),
            &mut w,
            "language_model.model",
            "language_model.lm_head.weight",
            dir,
            opts,
        )?;
        w.finish()?;
        Ok(LlavaOnevision {
            config,
            vision_tower,
            linear_1,
            linear_2,
            image_newline,
            language_model,
            autocast: Autocast::OFF,
        })
    }

    pub fn config(&self) -> &LlavaOnevisionConfig {
        &self.config
    }

    pub fn language_model(&self) -> &Qwen2ForCausalLM {
        &self.language_model
    }

    /// Runs the matrix products of the vision tower, projector and decoder in a lower precision than the
    /// weights (see [`Autocast`]); off by default.
    pub fn set_autocast(&mut self, autocast: Autocast) {
        self.autocast = autocast;
        self.language_model.set_autocast(autocast);
    }

    /// Every weight with the name transformers 5 saves it under (`vision_tower.*`,
    /// `multi_modal_projector.*`, `image_newline`, `language_model.model.*`, `language_model.lm_head.weight`
    /// unless tied).
    pub fn named_weights(&self) -> Vec<(String, &Tensor)> {
        let mut out = Vec::new();
        self.vision_tower.named_weights("vision_tower", &mut out);
        self.linear_1.named("multi_modal_projector.linear_1", &mut out);
        self.linear_2.named("multi_modal_projector.linear_2", &mut out);
        out.push(("image_newline".to_string(), &self.image_newline));
        out.extend(self.language_model.named_weights().into_iter().map(|(n, t)| (format!("language_model.{n}"), t)));
        out
    }

    /// Tiles the processor makes for an image of `size` (height, width): transformers'
    /// `image_size_to_num_patches`.
    pub fn num_tiles(&self, size: [i64; 2]) -> i64 {
        anyres::num_tiles(size, &self.config.image_grid_pinpoints, self.config.vision.image_size)
    }

    /// The packed features `[tokens, text_hidden]` of one image: the base tile's features, then the grid's
    /// features unpadded to the image's aspect ratio (downscaled beyond `anyres_max_N` tiles), each row
    /// ended by `image_newline`. `tokens` is what an `<image>` token expands to.
    pub fn image_features(&self, image: &ImageInput<'_>) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.image_features_graph(image)
    }

    /// `image_features` keeping the autograd graph (training).
    fn image_features_graph(&self, image: &ImageInput<'_>) -> Result<Tensor> {
        let c = &self.config;
        let tiles = image.pixel_values.size().first().copied().unwrap_or(0);
        let expected = if image.tiled { self.num_tiles(image.size) } else { 1 };
        if tiles != expected {
            return Err(ModelError::Input(format!(
                "image of size {:?} needs {expected} tiles, pixel_values have {tiles}",
                image.size
            )));
        }
        let hidden = self.vision_tower.hidden_states(image.pixel_values, c.vision_feature_layer, self.autocast)?;
        let x = self.linear_1.forward(&hidden, self.autocast)?.f_gelu("none")?;
        let feats = self.linear_2.forward(&x, self.autocast)?; // [tiles, patches, d]
        let g = c.vision.image_size / c.vision.patch_size;
        let d = c.text.hidden_size;
        let newline = self.image_newline.f_to_kind(feats.kind())?;
        if tiles == 1 {
            return Ok(Tensor::f_cat(&[feats.f_get(0)?, newline.f_unsqueeze(0)?], 0)?);
        }
        let base = feats.f_get(0)?;
        let [gh, gw] = anyres::grid_shape(image.size, &c.image_grid_pinpoints, c.vision.image_size);
        let grid = feats
            .f_narrow(0, 1, tiles - 1)?
            .f_view([gh, gw, g, g, d])?
            .f_permute([4, 0, 2, 1, 3])?
            .f_contiguous()?
            .f_reshape([d, gh * g, gw * g])?;
        let ([h0, hn], [w0, wn]) = anyres::unpad_ranges([gh * g, gw * g], image.size);
        let mut grid = grid.f_narrow(1, h0, hn)?.f_narrow(2, w0, wn)?;
        let ratio = ((hn * wn) as f64 / (c.max_num_patches * g * g) as f64).sqrt();
        if ratio > 1.1 {
            // nn.functional.interpolate(mode="bilinear"), sizes int(h // ratio), int(w // ratio)
            let size = [(hn as f64 / ratio).floor() as i64, (wn as f64 / ratio).floor() as i64];
            grid = grid.f_unsqueeze(0)?.f_upsample_bilinear2d(size, false, None, None)?.f_squeeze_dim(0)?;
        }
        let (rows, cols) = (grid.size()[1], grid.size()[2]);
        let nl = newline.f_view([d, 1, 1])?.f_expand([d, rows, 1], false)?;
        let grid = Tensor::f_cat(&[grid, nl], 2)?.f_reshape([d, rows * (cols + 1)])?.f_transpose(0, 1)?;
        Ok(Tensor::f_cat(&[base, grid], 0)?)
    }

    /// The features `[frames * p * p + 1, text_hidden]` of a video's frames `[frames, 3, size, size]`: each
    /// frame's projected grid pooled bilinearly to `p = ceil(grid / 2)` per side, then one `image_newline`
    /// (transformers' `get_video_features`). `tokens` is what a `<video>` token expands to.
    pub fn video_features(&self, pixel_values: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let c = &self.config;
        let frames = pixel_values.size().first().copied().unwrap_or(0);
        if frames == 0 {
            return Err(ModelError::Input("a video without frames".into()));
        }
        let hidden = self.vision_tower.hidden_states(pixel_values, c.vision_feature_layer, self.autocast)?;
        let x = self.linear_1.forward(&hidden, self.autocast)?.f_gelu("none")?;
        let feats = self.linear_2.forward(&x, self.autocast)?; // [frames, g * g, d]
        let g = c.vision.image_size / c.vision.patch_size;
        let d = c.text.hidden_size;
        let p = (g + 1) / 2;
        let pooled = feats
            .f_view([frames, g, g, d])?
            .f_permute([0, 3, 1, 2])?
            .f_contiguous()?
            .f_upsample_bilinear2d([p, p], false, None, None)?
            .f_permute([0, 2, 3, 1])?
            .f_reshape([frames * p * p, d])?;
        let newline = self.image_newline.f_to_kind(pooled.kind())?.f_unsqueeze(0)?;
        Ok(Tensor::f_cat(&[pooled, newline], 0)?)
    }

    /// Input embeddings of `input_ids` `[batch, len]` with the `<image>` positions, in reading order,
    /// replaced by the features of `images` in order.
    pub fn embed_with_images(&self, input_ids: &Tensor, images: &[ImageInput<'_>]) -> Result<Tensor> {
        self.embed_multimodal(input_ids, images, &[])
    }

    /// Input embeddings of `input_ids` `[batch, len]` with the `<image>` positions, in reading order, holding
    /// the features of `images` and the `<video>` positions those of `videos` (`[frames, 3, size, size]`
    /// each), in order.
    pub fn embed_multimodal(&self, input_ids: &Tensor, images: &[ImageInput<'_>], videos: &[Tensor]) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let embeds = self.language_model.embed(input_ids)?;
        let ids = input_ids.f_to_device(embeds.device())?;
        let image_feats = images.iter().map(|i| self.image_features(i)).collect::<Result<Vec<_>>>()?;
        let embeds = scatter(embeds, &ids, self.config.image_token_index, &image_feats, "image")?;
        let video_feats = videos.iter().map(|v| self.video_features(v)).collect::<Result<Vec<_>>>()?;
        scatter(embeds, &ids, self.config.video_token_index, &video_feats, "video")
    }

    /// `embed_with_images` keeping the autograd graph, for training: gradients reach the vision tower, the
    /// projector, `image_newline` and the token embeddings.
    pub fn embed_with_images_grad(&self, input_ids: &Tensor, images: &[ImageInput<'_>]) -> Result<Tensor> {
        let embeds = self.language_model.embed_ids(input_ids)?;
        let ids = input_ids.f_to_device(embeds.device())?;
        let image_feats = images.iter().map(|i| self.image_features_graph(i)).collect::<Result<Vec<_>>>()?;
        scatter(embeds, &ids, self.config.image_token_index, &image_feats, "image")
    }

    /// Logits `[batch, len, vocab]` (float32) of a batch with images, positions from the mask.
    pub fn forward(&self, input_ids: &Tensor, attention_mask: &Tensor, images: &[ImageInput<'_>]) -> Result<Tensor> {
        let embeds = self.embed_with_images(input_ids, images)?;
        let positions = positions_from_mask(attention_mask)?;
        let hidden = self.language_model.forward_embeds(&embeds, &positions, attention_mask, None)?;
        let _guard = tch::no_grad_guard();
        self.language_model.lm_head(&hidden)
    }
}

/// `embeds` with the positions of `token` holding `features` (concatenated in order); the counts must
/// agree, as transformers requires.
fn scatter(embeds: Tensor, ids: &Tensor, token: i64, features: &[Tensor], what: &str) -> Result<Tensor> {
    let is_token = ids.f_eq(token)?;
    let slots = is_token.f_sum(Kind::Int64)?.f_int64_value(&[])?;
    if features.is_empty() {
        if slots > 0 {
            return Err(ModelError::Input(format!("{slots} {what} tokens but no {what}")));
        }
        return Ok(embeds);
    }
    let feats = Tensor::f_cat(features, 0)?.f_to_kind(embeds.kind())?;
    if feats.size()[0] != slots {
        return Err(ModelError::Input(format!(
            "{what} features and {what} tokens do not match: {} features, {slots} tokens",
            feats.size()[0]
        )));
    }
    let mask = is_token.f_unsqueeze(-1)?.f_expand_as(&embeds)?;
    Ok(embeds.f_masked_scatter(&mask, &feats)?)
}
