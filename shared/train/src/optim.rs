//! AdamW with two weight-decay groups and global-norm gradient clipping, with PyTorch's update rule
//! (`torch.optim.AdamW`, decoupled decay) and transformers' grouping: no decay for biases and norm weights
//! (names matching `bias`, `layernorm`, `rmsnorm`, `norm`), decay for the rest.

use std::collections::HashMap;
use std::path::Path;

use model::tch::{Kind, Tensor};

use crate::error::{Result, TrainError};

/// One trained weight and its moment estimates.
struct Param {
    name: String,
    /// Shares storage with the model's weight: updates land in the model.
    weight: Tensor,
    decay: bool,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
}

#[derive(Debug, Clone, Copy)]
pub struct AdamWConfig {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

pub struct AdamW {
    params: Vec<Param>,
    cfg: AdamWConfig,
    step: u64,
}

/// transformers' `get_decay_parameter_names` patterns, applied to the lower-cased full name.
pub fn decays(name: &str) -> bool {
    let n = name.to_lowercase();
    let dotted = format!(".{n}.");
    !(n.contains("bias")
        || n.contains("layernorm")
        || n.contains("layer_norm") // SigLIP's `nn.LayerNorm`s (layer_norm1, layer_norm2), a forbidden type there
        || n.contains("rmsnorm")
        || dotted.contains(".norm.")
        || n.split('.').any(|part| part.ends_with("_norm")))
}

impl AdamW {
    /// `weights`: the trained weights by name; each gets `requires_grad` and zeroed moments.
    pub fn new(weights: Vec<(String, &Tensor)>, cfg: AdamWConfig) -> Result<Self> {
        let params = weights
            .into_iter()
            .map(|(name, w)| {
                let weight = w.set_requires_grad(true);
                Ok(Param {
                    decay: decays(&name),
                    exp_avg: w.f_zeros_like()?,
                    exp_avg_sq: w.f_zeros_like()?,
                    weight,
                    name,
                })
            })
            .collect::<Result<_>>()?;
        Ok(AdamW { params, cfg, step: 0 })
    }

    pub fn steps_taken(&self) -> u64 {
        self.step
    }

    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|p| p.name.as_str())
    }

    /// Clips the gradients to a global 2-norm of `max_norm` as `torch.nn.utils.clip_grad_norm_` does
    /// (`coef = max_norm / (norm + 1e-6)`, clamped to 1); returns the norm before clipping.
    pub fn clip_grad_norm(&mut self, max_norm: Option<f64>) -> Result<f64> {
        let _guard = model::tch::no_grad_guard();
        let grads: Vec<Tensor> = self.params.iter().map(|p| p.weight.grad()).filter(Tensor::defined).collect();
        if grads.is_empty() {
            return Ok(0.0);
        }
        let norms = grads.iter().map(|g| g.f_norm()).collect::<Result<Vec<_>, _>>()?;
        let total = Tensor::f_stack(&norms, 0)?.f_norm()?;
        if let Some(max) = max_norm {
            let coef = total.f_add_scalar(1e-6)?.f_reciprocal()?.f_mul_scalar(max)?.f_clamp_max(1.0)?;
            for mut g in grads {
                let _ = g.f_mul_(&coef)?;
            }
        }
        Ok(total.f_double_value(&[])?)
    }

    /// One AdamW update of every weight with a gradient, at learning rate `lr`.
    pub fn step(&mut self, lr: f64) -> Result<()> {
        let _guard = model::tch::no_grad_guard();
        self.step += 1;
        let AdamWConfig { beta1, beta2, eps, weight_decay } = self.cfg;
        let bias1 = 1.0 - beta1.powi(self.step as i32);
        let bias2_sqrt = (1.0 - beta2.powi(self.step as i32)).sqrt();
        for p in &mut self.params {
            let grad = p.weight.grad();
            if !grad.defined() {
                continue;
            }
            if p.decay && weight_decay != 0.0 {
                let _ = p.weight.f_mul_scalar_(1.0 - lr * weight_decay)?;
            }
            let _ = p.exp_avg.f_lerp_(&grad, 1.0 - beta1)?;
            let _ = p.exp_avg_sq.f_mul_scalar_(beta2)?;
            let _ = p.exp_avg_sq.f_addcmul_(&grad, &grad.f_mul_scalar(1.0 - beta2)?)?;
            let denom = p.exp_avg_sq.f_sqrt()?.f_div_scalar(bias2_sqrt)?.f_add_scalar(eps)?;
            let _ = p.weight.f_addcdiv_(&p.exp_avg.f_mul_scalar(-lr / bias1)?, &denom)?;
        }
        Ok(())
    }

    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            p.weight.zero_grad();
        }
    }

    /// Writes the moments (`exp_avg.NAME`, `exp_avg_sq.NAME`) to a safetensors file; the step count is
    /// saved by the caller.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut named: Vec<(String, Tensor)> = Vec::with_capacity(2 * self.params.len());
        for p in &self.params {
            named.push((format!("exp_avg.{}", p.name), p.exp_avg.f_to_device(model::tch::Device::Cpu)?));
            named.push((format!("exp_avg_sq.{}", p.name), p.exp_avg_sq.f_to_device(model::tch::Device::Cpu)?));
        }
        Tensor::write_safetensors(&named, path)?;
        Ok(())
    }

    /// Restores moments written by `save` and the step count; every trained weight must have both.
    pub fn load(&mut self, path: &Path, step: u64) -> Result<()> {
        let bad = |message: String| TrainError::Checkpoint { path: path.to_path_buf(), message };
        let mut saved: HashMap<String, Tensor> = Tensor::read_safetensors(path)?.into_iter().collect();
        let _guard = model::tch::no_grad_guard();
        for p in &mut self.params {
            for (key, dst) in [("exp_avg", &mut p.exp_avg), ("exp_avg_sq", &mut p.exp_avg_sq)] {
                let name = format!("{key}.{}", p.name);
                let t = saved.remove(&name).ok_or_else(|| bad(format!("optimizer state lacks `{name}`")))?;
                if t.size() != dst.size() || t.kind() != Kind::Float && t.kind() != dst.kind() {
                    return Err(bad(format!("`{name}` has shape {:?}, expected {:?}", t.size(), dst.size())));
                }
                dst.f_copy_(&t)?;
            }
        }
        if let Some(extra) = saved.keys().next() {
            return Err(bad(format!("optimizer state has `{extra}`, which this run does not train")));
        }
        self.step = step;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::decays;

    #[test]
    fn decay_groups_follow_transformers_patterns() {
        assert!(decays("model.layers.0.self_attn.q_proj.weight"));
        assert!(decays("model.embed_tokens.weight"));
        assert!(decays("lm_head.weight"));
        assert!(!decays("model.layers.0.self_attn.q_proj.bias"));
        assert!(!decays("model.layers.0.input_layernorm.weight"));
        assert!(!decays("model.layers.0.post_attention_layernorm.weight"));
        assert!(!decays("model.norm.weight"));
    }
}
