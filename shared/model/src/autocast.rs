//! Mixed precision the way `torch.autocast` applies it, as explicit casts: the matrix products (linear
//! layers, convolutions, attention) run in a lower precision on copies of their floating-point inputs, while
//! the weights stay in their own precision (float32 masters for training) and everything else follows
//! ordinary type promotion (a float32 residual plus a bfloat16 product is float32; the norms normalise in
//! float32). Autograd records the casts, so gradients reach the float32 weights in float32.
//!
//! tch's own `autocast` turns on CUDA's, with libtorch's default float16 and no way to pick bfloat16; these
//! casts work on every device and are what training with `bf16: true` uses. The op lists follow libtorch's
//! `autocast_mode.cpp`: `linear`, `conv2d` and `scaled_dot_product_attention` are "lower precision" ops on
//! CPU and CUDA alike.

use tch::{Kind, Tensor};

use crate::error::Result;
use crate::options::Dtype;

/// Off (the default), or the precision of the matrix products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Autocast(Option<Dtype>);

impl Autocast {
    pub const OFF: Autocast = Autocast(None);

    /// Matrix products in `dtype`; `Dtype::F32` is the same as off.
    pub fn new(dtype: Dtype) -> Self {
        if dtype == Dtype::F32 { Autocast::OFF } else { Autocast(Some(dtype)) }
    }

    pub fn dtype(self) -> Option<Dtype> {
        self.0
    }

    /// `t` as a lower-precision op receives it: a floating-point tensor (float64 excepted, as autocast
    /// leaves it) in the autocast precision, anything else unchanged.
    pub fn lower(self, t: &Tensor) -> Result<Tensor> {
        match self.0 {
            Some(d) if matches!(t.kind(), Kind::Float | Kind::Half | Kind::BFloat16) && t.kind() != d.kind() => {
                Ok(t.f_to_kind(d.kind())?)
            }
            _ => Ok(t.shallow_clone()),
        }
    }

    /// `x @ w.T + b`, in the autocast precision when on.
    pub fn linear(self, x: &Tensor, w: &Tensor, b: Option<&Tensor>) -> Result<Tensor> {
        if self.0.is_none() {
            return Ok(x.f_linear(w, b)?);
        }
        let b = b.map(|b| self.lower(b)).transpose()?;
        Ok(self.lower(x)?.f_linear(&self.lower(w)?, b.as_ref())?)
    }

    /// The LM head's `x @ w.T` under autocast as TRL's fused LM head computes it: the same values as a
    /// lower-precision product (inputs and result rounded), but the backward's products of the rounded
    /// gradient with the rounded inputs accumulate and stay in float32 instead of being rounded to the lower
    /// precision (which, TRL notes, biases training). Off: a plain product.
    pub fn lm_head(self, x: &Tensor, w: &Tensor) -> Result<Tensor> {
        let Some(d) = self.0 else {
            return Ok(x.f_linear::<Tensor>(w, None)?);
        };
        let kind = x.kind();
        // the rounded values, with an identity gradient (`t + (round(t) - t)` is exactly `round(t)`)
        let rounded = |t: &Tensor| -> Result<Tensor> {
            let r = t.f_to_kind(d.kind())?.f_to_kind(t.kind())?;
            Ok(t.f_add(&r.f_sub(t)?.f_detach()?)?)
        };
        let product = rounded(x)?.f_linear::<Tensor>(&rounded(&w.f_to_kind(kind)?)?, None)?;
        // rounding the result also rounds its incoming gradient, as the lower-precision tile holding it does
        Ok(product.f_to_kind(d.kind())?.f_to_kind(kind)?)
    }

    /// The additive attention bias as a lower-precision attention receives it. A plain cast would turn
    /// float32's lowest value into -inf in bfloat16 (and a fully masked padding row into NaN), so masked
    /// entries are clamped to the target's lowest finite value first.
    pub fn attention_bias(self, bias: &Tensor) -> Result<Tensor> {
        match self.0 {
            Some(d) if bias.kind() != d.kind() => Ok(bias.f_clamp_min(lowest(d.kind()))?.f_to_kind(d.kind())?),
            _ => Ok(bias.shallow_clone()),
        }
    }
}

/// The lowest finite value of a floating-point kind (exact: a rounded constant would overflow the cast).
pub(crate) fn lowest(kind: Kind) -> f64 {
    match kind {
        Kind::BFloat16 => -3.389_531_389_251_535_5e38,
        Kind::Half => -65504.0,
        _ => f32::MIN as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_changes_nothing_and_bf16_casts_floats_only() -> Result<()> {
        let x = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_eq!(Autocast::OFF.lower(&x)?.kind(), Kind::Float);
        assert_eq!(Autocast::new(Dtype::F32), Autocast::OFF);
        let on = Autocast::new(Dtype::BF16);
        assert_eq!(on.lower(&x)?.kind(), Kind::BFloat16);
        assert_eq!(on.lower(&Tensor::from_slice(&[1i64, 2]))?.kind(), Kind::Int64);
        assert_eq!(on.lower(&Tensor::from_slice(&[1.0f64]))?.kind(), Kind::Double);
        Ok(())
    }

    #[test]
    fn linear_in_bf16_rounds_as_bf16_and_keeps_float32_weight_gradients() -> Result<()> {
        let w = Tensor::from_slice(&[1.0f32 + 1.0 / 512.0, 0.5]).view([1, 2]).set_requires_grad(true);
        let x = Tensor::from_slice(&[1.0f32, 1.0]).view([1, 2]);
        let on = Autocast::new(Dtype::BF16);
        let y = on.linear(&x, &w, None)?;
        assert_eq!(y.kind(), Kind::BFloat16);
        // 1 + 1/512 is not a bfloat16 (8 significant bits): it rounds to 1
        assert_eq!(y.to_kind(Kind::Float).double_value(&[0, 0]), 1.5);
        assert!((Autocast::OFF.linear(&x, &w, None)?.double_value(&[0, 0]) - 1.501_953_125).abs() < 1e-9);
        y.to_kind(Kind::Float).sum(Kind::Float).backward();
        let g = w.grad();
        assert_eq!(g.kind(), Kind::Float);
        assert_eq!((g - Tensor::from_slice(&[1.0f32, 1.0]).view([1, 2])).abs().max().double_value(&[]), 0.0);
        Ok(())
    }

    #[test]
    fn lm_head_rounds_values_but_keeps_float32_gradient_products() -> Result<()> {
        // x = 1 + 2^-9 rounds to 1 in bf16; the gradient w.r.t. x is the rounded w (3, exact), unrounded
        let x = Tensor::from_slice(&[1.0f32 + 1.0 / 512.0]).view([1, 1]).set_requires_grad(true);
        let w = Tensor::from_slice(&[3.0f32]).view([1, 1]).set_requires_grad(true);
        let y = Autocast::new(Dtype::BF16).lm_head(&x, &w)?;
        assert_eq!(y.kind(), Kind::Float);
        assert_eq!(y.double_value(&[0, 0]), 3.0);
        // an incoming gradient of 1 + 2^-9 is rounded to 1 (the bf16 tile that holds it), then multiplied in f32
        (y * Tensor::from_slice(&[1.0f32 + 1.0 / 512.0]).view([1, 1])).sum(Kind::Float).backward();
        assert_eq!(x.grad().double_value(&[0, 0]), 3.0);
        assert_eq!(w.grad().double_value(&[0, 0]), 1.0);
        Ok(())
    }

    #[test]
    fn masked_bias_stays_finite_in_bf16() -> Result<()> {
        let bias = Tensor::from_slice(&[0.0f32, f32::MIN]);
        let b = Autocast::new(Dtype::BF16).attention_bias(&bias)?;
        assert_eq!(b.kind(), Kind::BFloat16);
        let v = b.to_kind(Kind::Float);
        assert_eq!(v.isfinite().all().int64_value(&[]), 1);
        assert_eq!(v.double_value(&[1]), lowest(Kind::BFloat16));
        Ok(())
    }
}
