//! The DPO losses and the metrics TRL logs, computed in float32 tensors as TRL computes them.
//!
//! With `Δ = (log π(y+) - log π_ref(y+)) - (log π(y-) - log π_ref(y-))` per pair, the loss of a micro-batch is
//! the mean over its pairs of the chosen variant (see [`LossType`]) plus `γ · NLL(y+)`, where `NLL(y+)` is the
//! mean negative log-prob of all chosen completion tokens of the micro-batch.

use model::tch::{Kind, Tensor};

use crate::config::{DpoConfig, LossType};
use crate::error::Result;
use crate::logps::{PairBatch, SequenceLogps};

/// The metrics TRL's `DPOTrainer` logs for one micro-batch (means over its pairs).
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PairMetrics {
    pub loss: f64,
    pub rewards_chosen: f64,
    pub rewards_rejected: f64,
    pub rewards_accuracies: f64,
    pub rewards_margins: f64,
    pub logps_chosen: f64,
    pub logps_rejected: f64,
}

impl PairMetrics {
    /// The mean of several micro-batches' metrics (what TRL logs per optimizer step).
    pub fn mean(all: &[PairMetrics]) -> PairMetrics {
        let n = all.len().max(1) as f64;
        let sum = |f: fn(&PairMetrics) -> f64| all.iter().map(f).sum::<f64>() / n;
        PairMetrics {
            loss: sum(|m| m.loss),
            rewards_chosen: sum(|m| m.rewards_chosen),
            rewards_rejected: sum(|m| m.rewards_rejected),
            rewards_accuracies: sum(|m| m.rewards_accuracies),
            rewards_margins: sum(|m| m.rewards_margins),
            logps_chosen: sum(|m| m.logps_chosen),
            logps_rejected: sum(|m| m.logps_rejected),
        }
    }
}

/// The loss (with its graph) and the micro-batch's metrics.
pub struct LossOutput {
    pub loss: Tensor,
    pub metrics: PairMetrics,
}

/// Reference log-probs of a micro-batch: `[B]` chosen and `[B]` rejected sums, without a graph.
pub struct RefLogps {
    pub chosen: Tensor,
    pub rejected: Tensor,
}

pub fn dpo_loss(
    cfg: &DpoConfig,
    batch: &PairBatch,
    policy: &SequenceLogps,
    reference: &RefLogps,
) -> Result<LossOutput> {
    let beta = cfg.beta;
    let ls = cfg.label_smoothing;
    let chosen_ratio = policy.chosen.f_sub(&reference.chosen)?;
    let rejected_ratio = policy.rejected.f_sub(&reference.rejected)?;
    let delta = chosen_ratio.f_sub(&rejected_ratio)?;
    let logsig = |x: &Tensor, scale: f64| -> Result<Tensor> { Ok(x.f_mul_scalar(scale)?.f_log_sigmoid()?) };
    let per_pair = match cfg.loss_type {
        LossType::Sigmoid if ls == 0.0 => logsig(&delta, beta)?.f_neg()?,
        LossType::Sigmoid => {
            logsig(&delta, beta)?.f_mul_scalar(-(1.0 - ls))?.f_sub(&logsig(&delta, -beta)?.f_mul_scalar(ls)?)?
        }
        LossType::Robust => logsig(&delta, beta)?
            .f_mul_scalar(-(1.0 - ls))?
            .f_add(&logsig(&delta, -beta)?.f_mul_scalar(ls)?)?
            .f_div_scalar(1.0 - 2.0 * ls)?,
        LossType::Hinge => delta.f_mul_scalar(-beta)?.f_add_scalar(1.0)?.f_relu()?,
        LossType::Sft => {
            return Err(crate::error::config_err("loss_type", "sft is trained by its own step, not a pair loss"));
        }
        LossType::Ipo => {
            let b = batch.pairs;
            let lens = Tensor::f_from_slice(&batch.completion_lens)?.f_to_kind(Kind::Float)?.f_clamp_min(1.0)?;
            let lens = lens.f_to_device(delta.device())?;
            let chosen_avg = chosen_ratio.f_div(&lens.f_narrow(0, 0, b as i64)?)?;
            let rejected_avg = rejected_ratio.f_div(&lens.f_narrow(0, b as i64, b as i64)?)?;
            chosen_avg.f_sub(&rejected_avg)?.f_sub_scalar(1.0 / (2.0 * beta))?.f_square()?
        }
    };
    let mut loss = per_pair.f_mean(Kind::Float)?;
    if cfg.sft_weight != 0.0 {
        let chosen_tokens = policy.per_token.f_narrow(0, 0, batch.chosen_tokens)?;
        let nll = chosen_tokens.f_mean(Kind::Float)?.f_neg()?;
        loss = loss.f_add(&nll.f_mul_scalar(cfg.sft_weight)?)?;
    }

    let _guard = model::tch::no_grad_guard();
    let chosen_rewards = chosen_ratio.f_detach()?.f_mul_scalar(beta)?;
    let rejected_rewards = rejected_ratio.f_detach()?.f_mul_scalar(beta)?;
    let mean = |t: &Tensor| -> Result<f64> { Ok(t.f_mean(Kind::Float)?.f_double_value(&[])?) };
    let metrics = PairMetrics {
        loss: loss.f_detach()?.f_double_value(&[])?,
        rewards_chosen: mean(&chosen_rewards)?,
        rewards_rejected: mean(&rejected_rewards)?,
        rewards_accuracies: mean(&chosen_rewards.f_gt_tensor(&rejected_rewards)?.f_to_kind(Kind::Float)?)?,
        rewards_margins: mean(&chosen_rewards.f_sub(&rejected_rewards)?)?,
        logps_chosen: mean(&policy.chosen.f_detach()?)?,
        logps_rejected: mean(&policy.rejected.f_detach()?)?,
    };
    Ok(LossOutput { loss, metrics })
}
