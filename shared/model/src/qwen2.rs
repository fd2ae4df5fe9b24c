//! `Qwen2ForCausalLM`: the module tree mirrors transformers' (`model.layers.{i}.self_attn.q_proj`, ...), so
//! weight names fall out of the structure. Inference runs under `no_grad`; `forward_hidden_with_grad` keeps the
//! graph for training.

use std::path::{Path, PathBuf};

use tch::{Device, Kind, Tensor};

use crate::autocast::{Autocast, lowest};
use crate::cache::KvCache;
use crate::config::Qwen2Config;
use crate::error::{ModelError, Result};
use crate::options::{Dtype, LoadOptions};
use crate::weights::WeightSource;

struct Attention {
    q_proj: Linear,
    k_proj: Linear,
    v_proj: Linear,
    o_proj: Linear,
}

struct Mlp {
    gate_proj: Linear,
    up_proj: Linear,
    down_proj: Linear,
}

struct Layer {
    input_layernorm: Tensor,
    self_attn: Attention,
    post_attention_layernorm: Tensor,
    mlp: Mlp,
}

pub(crate) struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    pub(crate) fn load(w: &mut WeightSource, prefix: &str, out_dim: i64, in_dim: i64, bias: bool) -> Result<Self> {
        let weight = w.take(&format!("{prefix}.weight"), &[out_dim, in_dim])?;
        let bias = if bias { Some(w.take(&format!("{prefix}.bias"), &[out_dim])?) } else { None };
        Ok(Linear { weight, bias })
    }

    pub(crate) fn forward(&self, x: &Tensor, ac: Autocast) -> Result<Tensor> {
        ac.linear(x, &self.weight, self.bias.as_ref())
    }

    pub(crate) fn named<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Tensor)>) {
        out.push((format!("{prefix}.weight"), &self.weight));
        if let Some(b) = &self.bias {
            out.push((format!("{prefix}.bias"), b));
        }
    }
}

/// Inputs of one forward step over a padded batch.
pub struct StepInput<'a> {
    /// `[batch, t]` token ids (i64).
    pub input_ids: &'a Tensor,
    /// `[batch, t]` RoPE positions (i64), counting real tokens only (transformers' `generate` derives them
    /// from the attention mask: `cumsum(mask) - 1`, pads set to 1).
    pub positions: &'a Tensor,
    /// `[batch, past + t]` 1 for real tokens, 0 for padding, covering the cached prefix and this step.
    pub attention_mask: &'a Tensor,
}

pub struct Qwen2ForCausalLM {
    config: Qwen2Config,
    dir: PathBuf,
    dtype: Dtype,
    device: Device,
    embed_tokens: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    /// `None`: tied to `embed_tokens` (the checkpoint has no `lm_head.weight`).
    lm_head: Option<Tensor>,
    inv_freq: Tensor,
    autocast: Autocast,
}

impl Qwen2ForCausalLM {
    /// Loads `config.json` and the safetensors weights of `dir`, strictly.
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(ModelError::MissingFile { path: config_path, what: "the model configuration" });
        }
        let config = Qwen2Config::from_file(&config_path)?;
        let mut w = WeightSource::open(dir, opts.dtype.kind(), opts.device)?;
        let model = Self::from_source(config, &mut w, "model", "lm_head.weight", dir, opts)?;
        w.finish()?;
        Ok(model)
    }

    /// Takes the decoder's weights from `w`: `{prefix}.embed_tokens.weight`, `{prefix}.layers.N...`,
    /// `{prefix}.norm.weight` and `lm_head` (absent means tied). The caller checks for leftovers.
    pub(crate) fn from_source(
        config: Qwen2Config,
        w: &mut WeightSource,
        prefix: &str,
        lm_head_name: &str,
        dir: &Path,
        opts: &LoadOptions,
    ) -> Result<Self> {
        let _guard = tch::no_grad_guard();
        let c = &config;
        let (h, i, d) = (c.hidden_size, c.intermediate_size, c.head_dim);
        let (nh, nkv) = (c.num_attention_heads, c.num_key_value_heads);
        let embed_tokens = w.take(&format!("{prefix}.embed_tokens.weight"), &[c.vocab_size, h])?;
        let mut layers = Vec::with_capacity(c.num_hidden_layers as usize);
        for l in 0..c.num_hidden_layers {
            let p = format!("{prefix}.layers.{l}");
            let w = &mut *w;
            layers.push(Layer {
                input_layernorm: w.take(&format!("{p}.input_layernorm.weight"), &[h])?,
                self_attn: Attention {
                    q_proj: Linear::load(w, &format!("{p}.self_attn.q_proj"), nh * d, h, true)?,
                    k_proj: Linear::load(w, &format!("{p}.self_attn.k_proj"), nkv * d, h, true)?,
                    v_proj: Linear::load(w, &format!("{p}.self_attn.v_proj"), nkv * d, h, true)?,
                    o_proj: Linear::load(w, &format!("{p}.self_attn.o_proj"), h, nh * d, false)?,
                },
                post_attention_layernorm: w.take(&format!("{p}.post_attention_layernorm.weight"), &[h])?,
                mlp: Mlp {
                    gate_proj: Linear::load(w, &format!("{p}.mlp.gate_proj"), i, h, false)?,
                    up_proj: Linear::load(w, &format!("{p}.mlp.up_proj"), i, h, false)?,
                    down_proj: Linear::load(w, &format!("{p}.mlp.down_proj"), h, i, false)?,
                },
            });
        }
        let norm = w.take(&format!("{prefix}.norm.weight"), &[h])?;
        // Tied embeddings are read from the file: transformers does not save `lm_head.weight` when tied.
        let lm_head = if w.contains(lm_head_name) || !c.tie_word_embeddings {
            Some(w.take(lm_head_name, &[c.vocab_size, h])?)
        } else {
            None
        };
        // RoPE inverse frequencies, in float32 as transformers computes them:
        // 1 / theta^(arange(0, dim, 2) / dim)
        let exponents = Tensor::f_arange_start_step(0, d, 2, (Kind::Int64, Device::Cpu))?
            .f_to_kind(Kind::Float)?
            .f_div_scalar(d as f64)?;
        let inv_freq = Tensor::f_from_slice(&[c.rope_theta as f32])?
            .f_pow(&exponents)?
            .f_reciprocal()?
            .f_to_device(opts.device)?;
        Ok(Qwen2ForCausalLM {
            dir: dir.to_path_buf(),
            dtype: opts.dtype,
            device: opts.device,
            embed_tokens,
            layers,
            norm,
            lm_head,
            inv_freq,
            autocast: Autocast::OFF,
            config,
        })
    }

    pub fn config(&self) -> &Qwen2Config {
        &self.config
    }

    /// The directory the model was loaded from (its tokenizer files live there).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    pub fn device(&self) -> Device {
        self.device
    }

    /// Runs the matrix products in a lower precision than the weights (see [`Autocast`]); off by default.
    pub fn set_autocast(&mut self, autocast: Autocast) {
        self.autocast = autocast;
    }

    pub fn autocast(&self) -> Autocast {
        self.autocast
    }

    pub fn is_tied(&self) -> bool {
        self.lm_head.is_none()
    }

    /// Every weight with its transformers name (the tied `lm_head` is not listed, as transformers saves it).
    pub fn named_weights(&self) -> Vec<(String, &Tensor)> {
        let mut out = vec![("model.embed_tokens.weight".to_string(), &self.embed_tokens)];
        for (l, layer) in self.layers.iter().enumerate() {
            let p = format!("model.layers.{l}");
            out.push((format!("{p}.input_layernorm.weight"), &layer.input_layernorm));
            layer.self_attn.q_proj.named(&format!("{p}.self_attn.q_proj"), &mut out);
            layer.self_attn.k_proj.named(&format!("{p}.self_attn.k_proj"), &mut out);
            layer.self_attn.v_proj.named(&format!("{p}.self_attn.v_proj"), &mut out);
            layer.self_attn.o_proj.named(&format!("{p}.self_attn.o_proj"), &mut out);
            out.push((format!("{p}.post_attention_layernorm.weight"), &layer.post_attention_layernorm));
            layer.mlp.gate_proj.named(&format!("{p}.mlp.gate_proj"), &mut out);
            layer.mlp.up_proj.named(&format!("{p}.mlp.up_proj"), &mut out);
            layer.mlp.down_proj.named(&format!("{p}.mlp.down_proj"), &mut out);
        }
        out.push(("model.norm.weight".to_string(), &self.norm));
        if let Some(w) = &self.lm_head {
            out.push(("lm_head.weight".to_string(), w));
        }
        out
    }

    /// A KV cache sized for this model.
    pub fn new_cache(&self, batch: i64, capacity: i64) -> Result<KvCache> {
        let c = &self.config;
        KvCache::new(
            c.num_hidden_layers,
            batch,
            c.num_key_value_heads,
            c.head_dim,
            capacity,
            self.dtype.kind(),
            self.device,
        )
    }

    /// Runs the decoder over one step and returns the final hidden states `[batch, t, hidden]` (after the
    /// last norm). With a cache, the step's keys and values are appended to it and attention covers the
    /// cached prefix; without one, the step is the whole sequence.
    pub fn forward_hidden(&self, input: &StepInput<'_>, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let embeds = self.embed(input.input_ids)?;
        self.forward_embeds(&embeds, input.positions, input.attention_mask, cache)
    }

    /// `forward_hidden` without a cache that keeps the autograd graph, for training: gradients reach every
    /// weight on which `set_requires_grad(true)` was called (see `named_weights`).
    pub fn forward_hidden_with_grad(&self, input: &StepInput<'_>) -> Result<Tensor> {
        let embeds = self.embed_ids(input.input_ids)?;
        self.decoder(&embeds, input.positions, input.attention_mask, None, None)
    }

    /// `forward_hidden_with_grad` with an explicit additive attention bias `[batch, 1, t, t]` of the model's
    /// dtype (0 where a query may see a key, a large negative finite value elsewhere) in place of the causal
    /// mask built from `input.attention_mask`: for rows that pack several continuations of one prompt (DPO's
    /// chosen and rejected after a shared prompt).
    pub fn forward_hidden_with_bias(&self, input: &StepInput<'_>, bias: &Tensor) -> Result<Tensor> {
        let size = input.input_ids.size();
        let (b, t) = (size.first().copied().unwrap_or(0), size.get(1).copied().unwrap_or(0));
        if bias.size() != [b, 1, t, t] {
            return Err(ModelError::Input(format!("attention bias is {:?}, expected [{b}, 1, {t}, {t}]", bias.size())));
        }
        let embeds = self.embed_ids(input.input_ids)?;
        self.decoder(&embeds, input.positions, input.attention_mask, None, Some(bias))
    }

    /// Token embeddings `[batch, t, hidden]` of ids `[batch, t]` (checked against the vocabulary).
    pub fn embed(&self, input_ids: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.embed_ids(input_ids)
    }

    /// `embed` without the no-grad guard (the training paths keep the graph).
    pub(crate) fn embed_ids(&self, input_ids: &Tensor) -> Result<Tensor> {
        let size = input_ids.size();
        if size.len() != 2 || size.contains(&0) {
            return Err(ModelError::Input(format!("input_ids must be a non-empty [batch, len], got {size:?}")));
        }
        let ids = input_ids.f_to_device(self.device)?;
        let (min, max) = (ids.f_min()?.f_int64_value(&[])?, ids.f_max()?.f_int64_value(&[])?);
        if min < 0 || max >= self.config.vocab_size {
            return Err(ModelError::Input(format!("token id outside the vocabulary 0..{}", self.config.vocab_size)));
        }
        Ok(Tensor::f_embedding(&self.embed_tokens, &ids, -1, false, false)?)
    }

    /// The decoder over input embeddings `[batch, t, hidden]` (what multimodal models feed it).
    pub fn forward_embeds(
        &self,
        embeds: &Tensor,
        positions: &Tensor,
        attention_mask: &Tensor,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.decoder(embeds, positions, attention_mask, cache, None)
    }

    /// `forward_embeds` without a cache that keeps the autograd graph, for training models that feed the
    /// decoder embeddings (LLaVA-OneVision); `bias` as in `forward_hidden_with_bias`, else the causal mask of
    /// `attention_mask`.
    pub fn forward_embeds_with_grad(
        &self,
        embeds: &Tensor,
        positions: &Tensor,
        attention_mask: &Tensor,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        if let Some(bias) = bias {
            let size = embeds.size();
            let (b, t) = (size.first().copied().unwrap_or(0), size.get(1).copied().unwrap_or(0));
            if bias.size() != [b, 1, t, t] {
                return Err(ModelError::Input(format!(
                    "attention bias is {:?}, expected [{b}, 1, {t}, {t}]",
                    bias.size()
                )));
            }
        }
        self.decoder(embeds, positions, attention_mask, None, bias)
    }

    /// The decoder proper; `bias` replaces the causal mask built from `attention_mask` when given.
    fn decoder(
        &self,
        embeds: &Tensor,
        positions: &Tensor,
        attention_mask: &Tensor,
        mut cache: Option<&mut KvCache>,
        bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let c = &self.config;
        let size = embeds.size();
        let [b, t, hidden] = size[..] else {
            return Err(ModelError::Input(format!("embeddings must be [batch, len, hidden], got {size:?}")));
        };
        if hidden != c.hidden_size {
            return Err(ModelError::Input(format!("embeddings have width {hidden}, the model {}", c.hidden_size)));
        }
        let past = cache.as_ref().map_or(0, |c| c.len());
        let mask_size = attention_mask.size();
        if mask_size != [b, past + t] {
            return Err(ModelError::Input(format!(
                "attention_mask is {mask_size:?}, expected [{b}, {}] (cached {past} + {t})",
                past + t
            )));
        }
        if positions.size() != [b, t] {
            return Err(ModelError::Input(format!("positions are {:?}, expected [{b}, {t}]", positions.size())));
        }
        let kind = self.dtype.kind();
        let (cos, sin) = self.rope(&positions.f_to_device(self.device)?, kind)?;
        let mask = match bias {
            Some(bias) => bias.f_to_device(self.device)?.f_to_kind(kind)?,
            None => attention_bias(&attention_mask.f_to_device(self.device)?, past, t, kind)?,
        };
        let ac = self.autocast;
        let mask = ac.attention_bias(&mask)?;

        let mut x = embeds.f_to_device(self.device)?.f_to_kind(kind)?;
        for (l, layer) in self.layers.iter().enumerate() {
            let residual = x.shallow_clone();
            let hs = rms_norm(&x, &layer.input_layernorm, c.rms_norm_eps)?;
            let hs = self.attention(l, &layer.self_attn, &hs, &cos, &sin, &mask, cache.as_deref_mut())?;
            let x1 = residual.f_add(&hs)?;
            let hs = rms_norm(&x1, &layer.post_attention_layernorm, c.rms_norm_eps)?;
            let m = &layer.mlp;
            let act = m.gate_proj.forward(&hs, ac)?.f_silu()?.f_mul(&m.up_proj.forward(&hs, ac)?)?;
            x = x1.f_add(&m.down_proj.forward(&act, ac)?)?;
        }
        if let Some(cache) = cache {
            cache.advance(t);
        }
        rms_norm(&x, &self.norm, c.rms_norm_eps)
    }

    /// Logits (in float32) of hidden states `[..., hidden]`.
    pub fn lm_head(&self, hidden: &Tensor) -> Result<Tensor> {
        let w = self.lm_head.as_ref().unwrap_or(&self.embed_tokens);
        Ok(self.autocast.lm_head(hidden, w)?.f_to_kind(Kind::Float)?)
    }

    /// Logits `[batch, t, vocab]` (float32) of one step.
    pub fn forward(&self, input: &StepInput<'_>, cache: Option<&mut KvCache>) -> Result<Tensor> {
        let hidden = self.forward_hidden(input, cache)?;
        let _guard = tch::no_grad_guard();
        self.lm_head(&hidden)
    }

    /// cos and sin `[batch, 1, t, head_dim]` for positions `[batch, t]`, computed in float32.
    fn rope(&self, positions: &Tensor, kind: Kind) -> Result<(Tensor, Tensor)> {
        let freqs = positions.f_to_kind(Kind::Float)?.f_unsqueeze(-1)?.f_mul(&self.inv_freq)?;
        let emb = Tensor::f_cat(&[&freqs, &freqs], -1)?.f_unsqueeze(1)?;
        Ok((emb.f_cos()?.f_to_kind(kind)?, emb.f_sin()?.f_to_kind(kind)?))
    }

    #[allow(clippy::too_many_arguments)]
    fn attention(
        &self,
        layer: usize,
        a: &Attention,
        x: &Tensor,
        cos: &Tensor,
        sin: &Tensor,
        mask: &Tensor,
        cache: Option<&mut KvCache>,
    ) -> Result<Tensor> {
        let c = &self.config;
        let (b, t) = (x.size()[0], x.size()[1]);
        let (nh, nkv, d) = (c.num_attention_heads, c.num_key_value_heads, c.head_dim);
        let heads = |y: Tensor, n: i64| -> Result<Tensor> { Ok(y.f_view([b, t, n, d])?.f_transpose(1, 2)?) };
        let ac = self.autocast;
        let q = apply_rope(&heads(a.q_proj.forward(x, ac)?, nh)?, cos, sin)?;
        let k = apply_rope(&heads(a.k_proj.forward(x, ac)?, nkv)?, cos, sin)?;
        let v = heads(a.v_proj.forward(x, ac)?, nkv)?;
        let (k, v) = match cache {
            Some(cache) => cache.append(layer, &k, &v)?,
            None => (k, v),
        };
        // under autocast, attention is a lower-precision op (the mask was lowered with the step's bias)
        let (q, k, v) = (ac.lower(&q)?, ac.lower(&k)?, ac.lower(&v)?);
        // grouped-query attention: kv head j serves query heads j*rep .. (j+1)*rep (transformers' repeat_kv).
        // Instead of repeating the cached keys and values rep times (a copy of the whole cache per layer and
        // step), fold the rep query heads of each group into the query length: [b, nkv, rep * t, d].
        let rep = nh / nkv;
        let scale = 1.0 / (d as f64).sqrt();
        let out = if rep > 1 && ac.dtype().is_some() {
            // Under autocast (training), the key and value heads are repeated as transformers' sdpa path
            // repeats them for a padded batch: the gradient of each copy is rounded to the lower precision
            // before the copies are summed, and folding would round their sum once instead.
            let repeat = |x: &Tensor| -> Result<Tensor> {
                let s = x.size()[2];
                Ok(x.f_unsqueeze(2)?.f_expand([b, nkv, rep, s, d], false)?.f_reshape([b, nh, s, d])?)
            };
            Tensor::f_scaled_dot_product_attention(
                &q,
                &repeat(&k)?,
                &repeat(&v)?,
                Some(mask),
                0.0,
                false,
                scale,
                false,
            )?
        } else if rep > 1 {
            let q = q.f_reshape([b, nkv, rep * t, d])?;
            let s = k.size()[2];
            let mask = mask.f_unsqueeze(2)?.f_expand([b, 1, rep, t, s], false)?.f_reshape([b, 1, rep * t, s])?;
            Tensor::f_scaled_dot_product_attention(&q, &k, &v, Some(&mask), 0.0, false, scale, false)?
                .f_reshape([b, nh, t, d])?
        } else {
            Tensor::f_scaled_dot_product_attention(&q, &k, &v, Some(mask), 0.0, false, scale, false)?
        };
        let out = out.f_transpose(1, 2)?.f_reshape([b, t, nh * d])?;
        a.o_proj.forward(&out, ac)
    }
}

/// Additive attention bias `[batch, 1, t, past + t]`: 0 where query i (absolute index past + i) may see
/// key j (j <= past + i and key j is not padding), the dtype's lowest value elsewhere (as transformers'
/// eager path; a fully masked row of a padding query stays finite).
fn attention_bias(key_mask: &Tensor, past: i64, t: i64, kind: Kind) -> Result<Tensor> {
    let device = key_mask.device();
    let total = past + t;
    let q = Tensor::f_arange_start(past, total, (Kind::Int64, device))?.f_view([t, 1])?;
    let k = Tensor::f_arange(total, (Kind::Int64, device))?.f_view([1, total])?;
    let causal = k.f_le_tensor(&q)?; // [t, total]
    let keys = key_mask.f_ne(0)?.f_unsqueeze(1)?; // [b, 1, total]
    let allowed = causal.f_unsqueeze(0)?.f_logical_and(&keys)?.f_unsqueeze(1)?; // [b, 1, t, total]
    let zeros = Tensor::f_zeros([1], (kind, device))?;
    Ok(zeros.f_masked_fill(&allowed.f_logical_not()?, lowest(kind))?)
}

/// Qwen2RMSNorm: normalise in float32, cast back, then scale.
fn rms_norm(x: &Tensor, weight: &Tensor, eps: f64) -> Result<Tensor> {
    let kind = x.kind();
    let xf = x.f_to_kind(Kind::Float)?;
    let var = xf.f_pow_tensor_scalar(2)?.f_mean_dim(-1, true, Kind::Float)?;
    let normed = xf.f_mul(&var.f_add_scalar(eps)?.f_rsqrt()?)?.f_to_kind(kind)?;
    Ok(weight.f_mul(&normed)?)
}

fn apply_rope(x: &Tensor, cos: &Tensor, sin: &Tensor) -> Result<Tensor> {
    let half = x.size()[3] / 2;
    let x1 = x.f_narrow(3, 0, half)?;
    let x2 = x.f_narrow(3, half, half)?;
    let rotated = Tensor::f_cat(&[&x2.f_neg()?, &x1], -1)?;
    Ok(x.f_mul(cos)?.f_add(&rotated.f_mul(sin)?)?)
}

/// Positions from an attention mask `[batch, len]` as transformers' `generate` computes them:
/// `cumsum(mask) - 1`, with padding positions set to 1.
pub fn positions_from_mask(mask: &Tensor) -> Result<Tensor> {
    let pos = mask.f_cumsum(-1, Kind::Int64)?.f_sub_scalar(1)?;
    Ok(pos.f_masked_fill(&mask.f_eq(0)?, 1)?)
}
