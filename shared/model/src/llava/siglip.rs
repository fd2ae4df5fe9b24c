//! The SigLIP vision tower (transformers' `SiglipVisionModel` without the pooling head): patch embedding
//! (a strided convolution), learned position embeddings, pre-norm encoder layers with tanh-GELU MLPs.

use tch::Tensor;

use super::config::SiglipVisionConfig;
use crate::autocast::Autocast;
use crate::error::{ModelError, Result};
use crate::qwen2::Linear;
use crate::weights::WeightSource;

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

impl LayerNorm {
    fn load(w: &mut WeightSource, prefix: &str, dim: i64) -> Result<Self> {
        Ok(LayerNorm {
            weight: w.take(&format!("{prefix}.weight"), &[dim])?,
            bias: w.take(&format!("{prefix}.bias"), &[dim])?,
        })
    }

    fn named<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Tensor)>) {
        out.push((format!("{prefix}.weight"), &self.weight));
        out.push((format!("{prefix}.bias"), &self.bias));
    }

    fn forward(&self, x: &Tensor, eps: f64) -> Result<Tensor> {
        let dim = self.weight.size();
        Ok(x.f_layer_norm(&dim, Some(&self.weight), Some(&self.bias), eps, false)?)
    }
}

struct EncoderLayer {
    layer_norm1: LayerNorm,
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    out_proj: Linear,
    layer_norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

pub struct SiglipVisionTower {
    config: SiglipVisionConfig,
    patch_weight: Tensor,
    patch_bias: Tensor,
    position_embedding: Tensor,
    layers: Vec<EncoderLayer>,
    /// Loaded and saved (it is part of the checkpoint) but not applied: LLaVA takes an encoder layer's
    /// hidden states.
    post_layernorm: LayerNorm,
}

impl SiglipVisionTower {
    /// `prefix` is `vision_tower` (transformers 5 layout) or `vision_tower.vision_model` (earlier layout).
    pub fn load(config: SiglipVisionConfig, w: &mut WeightSource, prefix: &str) -> Result<Self> {
        let c = &config;
        let (h, i) = (c.hidden_size, c.intermediate_size);
        let p = c.patch_size;
        let n = (c.image_size / p) * (c.image_size / p);
        let e = format!("{prefix}.embeddings");
        let patch_weight = w.take(&format!("{e}.patch_embedding.weight"), &[h, c.num_channels, p, p])?;
        let patch_bias = w.take(&format!("{e}.patch_embedding.bias"), &[h])?;
        let position_embedding = w.take(&format!("{e}.position_embedding.weight"), &[n, h])?;
        let mut layers = Vec::new();
        for l in 0..c.num_hidden_layers {
            let q = format!("{prefix}.encoder.layers.{l}");
            layers.push(EncoderLayer {
                layer_norm1: LayerNorm::load(w, &format!("{q}.layer_norm1"), h)?,
                q_proj: Linear::load(w, &format!("{q}.self_attn.q_proj"), h, h, true)?,
                k_proj: Linear::load(w, &format!("{q}.self_attn.k_proj"), h, h, true)?,
                v_proj: Linear::load(w, &format!("{q}.self_attn.v_proj"), h, h, true)?,
                out_proj: Linear::load(w, &format!("{q}.self_attn.out_proj"), h, h, true)?,
                layer_norm2: LayerNorm::load(w, &format!("{q}.layer_norm2"), h)?,
                fc1: Linear::load(w, &format!("{q}.mlp.fc1"), i, h, true)?,
                fc2: Linear::load(w, &format!("{q}.mlp.fc2"), h, i, true)?,
            });
        }
        let post = LayerNorm::load(w, &format!("{prefix}.post_layernorm"), h)?;
        Ok(SiglipVisionTower { config, patch_weight, patch_bias, position_embedding, layers, post_layernorm: post })
    }

    /// Every weight under `prefix` with its transformers name.
    pub fn named_weights<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Tensor)>) {
        let e = format!("{prefix}.embeddings");
        out.push((format!("{e}.patch_embedding.weight"), &self.patch_weight));
        out.push((format!("{e}.patch_embedding.bias"), &self.patch_bias));
        out.push((format!("{e}.position_embedding.weight"), &self.position_embedding));
        for (l, layer) in self.layers.iter().enumerate() {
            let q = format!("{prefix}.encoder.layers.{l}");
            layer.layer_norm1.named(&format!("{q}.layer_norm1"), out);
            layer.q_proj.named(&format!("{q}.self_attn.q_proj"), out);
            layer.k_proj.named(&format!("{q}.self_attn.k_proj"), out);
            layer.v_proj.named(&format!("{q}.self_attn.v_proj"), out);
            layer.out_proj.named(&format!("{q}.self_attn.out_proj"), out);
            layer.layer_norm2.named(&format!("{q}.layer_norm2"), out);
            layer.fc1.named(&format!("{q}.mlp.fc1"), out);
            layer.fc2.named(&format!("{q}.mlp.fc2"), out);
        }
        self.post_layernorm.named(&format!("{prefix}.post_layernorm"), out);
    }

    /// Hidden states `[tiles, patches, hidden]` of `pixel_values` `[tiles, channels, size, size]` at
    /// `feature_layer`, indexed as transformers' `hidden_states` tuple (0: embeddings, -1: last layer).
    /// It keeps the autograd graph; inference callers hold a `no_grad_guard`. `ac`: the precision of the
    /// convolution, linear layers and attention.
    pub fn hidden_states(&self, pixel_values: &Tensor, feature_layer: i64, ac: Autocast) -> Result<Tensor> {
        let c = &self.config;
        let size = pixel_values.size();
        if size.len() != 4 || size[1..] != [c.num_channels, c.image_size, c.image_size] {
            return Err(ModelError::Input(format!(
                "pixel_values are {size:?}, expected [tiles, {}, {}, {}]",
                c.num_channels, c.image_size, c.image_size
            )));
        }
        let n_states = self.layers.len() as i64 + 1;
        let upto = if feature_layer < 0 { n_states + feature_layer } else { feature_layer };
        if !(0..n_states).contains(&upto) {
            return Err(ModelError::Input(format!("vision_feature_layer {feature_layer} of {n_states} states")));
        }
        let x = pixel_values.f_to_device(self.patch_weight.device())?.f_to_kind(self.patch_weight.kind())?;
        let p = c.patch_size;
        let (weight, bias) = (ac.lower(&self.patch_weight)?, ac.lower(&self.patch_bias)?);
        let patches = ac.lower(&x)?.f_conv2d(&weight, Some(&bias), [p, p], [0, 0], [1, 1], 1)?;
        let mut x = patches.f_flatten(2, 3)?.f_transpose(1, 2)?.f_add(&self.position_embedding)?;
        let (b, n, h) = (x.size()[0], x.size()[1], c.hidden_size);
        let heads = c.num_attention_heads;
        let d = h / heads;
        let scale = 1.0 / (d as f64).sqrt();
        for layer in self.layers.iter().take(upto as usize) {
            let hs = layer.layer_norm1.forward(&x, c.layer_norm_eps)?;
            let split = |y: Tensor| -> Result<Tensor> { Ok(y.f_view([b, n, heads, d])?.f_transpose(1, 2)?) };
            let q = split(layer.q_proj.forward(&hs, ac)?)?;
            let k = split(layer.k_proj.forward(&hs, ac)?)?;
            let v = split(layer.v_proj.forward(&hs, ac)?)?;
            let att = Tensor::f_scaled_dot_product_attention::<Tensor>(&q, &k, &v, None, 0.0, false, scale, false)?;
            let att = att.f_transpose(1, 2)?.f_reshape([b, n, h])?;
            x = x.f_add(&layer.out_proj.forward(&att, ac)?)?;
            let hs = layer.layer_norm2.forward(&x, c.layer_norm_eps)?;
            let mlp = layer.fc2.forward(&layer.fc1.forward(&hs, ac)?.f_gelu("tanh")?, ac)?;
            x = x.f_add(&mlp)?;
        }
        Ok(x)
    }
}
