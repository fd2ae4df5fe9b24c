//! The DPO training loop: micro-batches of pairs, gradient accumulation, clipping, the AdamW step at the
//! scheduled learning rate, and resumable checkpoints. Step semantics follow transformers' `Trainer`:
//! an epoch is `ceil(pairs / batch)` micro-batches, an optimizer step takes `gradient_accumulation_steps`
//! of them (fewer at the end of an epoch; the loss is divided by the number actually taken), and the
//! learning rate of step `s` is `lr * factor(s)`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use model::LoadOptions;
use model::tch::{Kind, Tensor};
use serde::{Deserialize, Serialize};

use crate::checkpoint::{self, TrainerState};
use crate::config::{DpoConfig, LossType};
use crate::error::{Result, TrainError, config_err};
use crate::logps::PairBatch;
use crate::loss::{PairMetrics, RefLogps, dpo_loss};
use crate::optim::{AdamW, AdamWConfig};
use crate::order::epoch_order;
use crate::pairs::TokenizedPair;
use crate::policy::PolicyModel;
use crate::schedule::{lr_factor, warmup_steps};

/// Where reference log-probs come from.
pub enum Reference {
    /// A frozen copy of the starting checkpoint, run alongside each micro-batch.
    Model(Box<PolicyModel>),
    /// `(chosen, rejected)` sums per pair (indexed like the pair list), computed once before training.
    Precomputed(Vec<(f32, f32)>),
    /// Supervised fine-tuning needs none.
    None,
}

/// What one optimizer step logged. `pairs` holds TRL's metrics averaged over the step's micro-batches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// 1-based index of the step.
    pub step: u64,
    pub epoch: u64,
    /// The learning rate this step used.
    pub learning_rate: f64,
    /// The global gradient norm before clipping.
    pub grad_norm: f64,
    #[serde(flatten)]
    pub pairs: PairMetrics,
    /// Non-padding tokens processed by the policy.
    pub tokens: i64,
    pub seconds: f64,
}

pub struct DpoTrainer {
    cfg: DpoConfig,
    base: PathBuf,
    policy: PolicyModel,
    reference: Reference,
    pairs: Vec<TokenizedPair>,
    optimizer: AdamW,
    /// Optimizer steps completed.
    step: u64,
    total_steps: u64,
    steps_per_epoch: u64,
    micro_per_epoch: usize,
    warmup: u64,
    pad_id: u32,
}

impl DpoTrainer {
    /// Starts a run from checkpoint `base` (the policy and, unless precomputed, the frozen reference).
    pub fn new(base: &Path, pairs: Vec<TokenizedPair>, cfg: DpoConfig, opts: &LoadOptions) -> Result<Self> {
        let policy = PolicyModel::load(base, opts)?;
        Self::build(base, policy, pairs, cfg, opts, None)
    }

    /// Continues the run saved in `checkpoint_dir` (written by [`DpoTrainer::save_checkpoint`]) with the
    /// same pairs and options; the reference is the run's starting checkpoint, as recorded there.
    pub fn resume(
        checkpoint_dir: &Path,
        pairs: Vec<TokenizedPair>,
        cfg: DpoConfig,
        opts: &LoadOptions,
    ) -> Result<Self> {
        let state = checkpoint::read_state(checkpoint_dir)?;
        state.check_matches(checkpoint_dir, &cfg, &pairs)?;
        let policy = PolicyModel::load(checkpoint_dir, opts)?;
        let base = state.base.clone();
        Self::build(&base, policy, pairs, cfg, opts, Some((checkpoint_dir, state)))
    }

    fn build(
        base: &Path,
        mut policy: PolicyModel,
        pairs: Vec<TokenizedPair>,
        cfg: DpoConfig,
        opts: &LoadOptions,
        resume: Option<(&Path, TrainerState)>,
    ) -> Result<Self> {
        cfg.validate()?;
        if pairs.is_empty() {
            return Err(config_err("pairs", "no pairs to train on"));
        }
        policy.set_autocast(cfg.autocast());
        let trained: Vec<(String, &Tensor)> = policy
            .named_weights()
            .into_iter()
            .filter(|(name, _)| cfg.trainable.is_empty() || cfg.trainable.iter().any(|p| name.starts_with(p.as_str())))
            .collect();
        if trained.is_empty() {
            return Err(config_err("trainable", format!("no weight name starts with any of {:?}", cfg.trainable)));
        }
        let adam = AdamWConfig {
            beta1: cfg.adam_beta1,
            beta2: cfg.adam_beta2,
            eps: cfg.adam_epsilon,
            weight_decay: cfg.weight_decay,
        };
        let mut optimizer = AdamW::new(trained, adam)?;
        let pad_id = policy.language_model().config().pad_token_id.unwrap_or(0).max(0) as u32;
        let micro_per_epoch = pairs.len().div_ceil(cfg.per_device_train_batch_size);
        let steps_per_epoch = micro_per_epoch.div_ceil(cfg.gradient_accumulation_steps).max(1) as u64;
        let total_steps = cfg.max_steps.unwrap_or(cfg.num_train_epochs * steps_per_epoch);
        let warmup = warmup_steps(total_steps, cfg.warmup_steps, cfg.warmup_ratio);
        let (step, saved_ref) = match resume {
            Some((dir, state)) => {
                optimizer.load(&dir.join(checkpoint::OPTIMIZER_FILE), state.step)?;
                (state.step, state.ref_logps)
            }
            None => (0, None),
        };
        let reference = match saved_ref {
            _ if cfg.loss_type == LossType::Sft => Reference::None,
            Some(r) if cfg.precompute_ref_log_probs => Reference::Precomputed(r),
            _ => {
                let mut model = Box::new(PolicyModel::load(base, opts)?);
                model.set_autocast(cfg.autocast());
                Reference::Model(model)
            }
        };
        let mut trainer = DpoTrainer {
            cfg,
            base: base.to_path_buf(),
            policy,
            reference,
            pairs,
            optimizer,
            step,
            total_steps,
            steps_per_epoch,
            micro_per_epoch,
            warmup,
            pad_id,
        };
        if trainer.cfg.precompute_ref_log_probs
            && let Reference::Model(model) = &trainer.reference
        {
            let precomputed = trainer.precompute(model)?;
            trainer.reference = Reference::Precomputed(precomputed);
        }
        Ok(trainer)
    }

    /// Reference log-probs of every pair, in batches of `per_device_train_batch_size` in file order.
    fn precompute(&self, model: &PolicyModel) -> Result<Vec<(f32, f32)>> {
        let mut out = Vec::with_capacity(self.pairs.len());
        for chunk in self.pairs.chunks(self.cfg.per_device_train_batch_size) {
            let refs: Vec<&TokenizedPair> = chunk.iter().collect();
            let batch = self.batch(&refs, model)?;
            let lp = batch.logps(model, false)?;
            let (c, r) = (to_f32(&lp.chosen)?, to_f32(&lp.rejected)?);
            out.extend(c.into_iter().zip(r));
        }
        Ok(out)
    }

    pub fn config(&self) -> &DpoConfig {
        &self.cfg
    }

    pub fn policy(&self) -> &PolicyModel {
        &self.policy
    }

    pub fn steps_done(&self) -> u64 {
        self.step
    }

    pub fn total_steps(&self) -> u64 {
        self.total_steps
    }

    pub fn is_done(&self) -> bool {
        self.step >= self.total_steps
    }

    /// Runs one optimizer step (all of its micro-batches).
    pub fn step(&mut self) -> Result<StepMetrics> {
        if self.is_done() {
            return Err(config_err("max_steps", format!("the run is complete ({} steps)", self.total_steps)));
        }
        let started = Instant::now();
        let epoch = self.step / self.steps_per_epoch;
        let in_epoch = (self.step % self.steps_per_epoch) as usize;
        let order = epoch_order(self.pairs.len(), self.cfg.seed, epoch, self.cfg.shuffle);
        let ga = self.cfg.gradient_accumulation_steps;
        let first = in_epoch * ga;
        let bs = self.cfg.per_device_train_batch_size;
        // the pair indices of each of the step's micro-batches
        let micro: Vec<&[usize]> = (first..(first + ga).min(self.micro_per_epoch))
            .map(|m| &order[m * bs..((m + 1) * bs).min(order.len())])
            .collect();
        let pairs_of = |idx: &[usize]| -> Vec<&TokenizedPair> { idx.iter().map(|&i| &self.pairs[i]).collect() };
        let mut tokens = 0;
        if self.cfg.loss_type == LossType::Sft {
            let batches: Vec<Vec<&TokenizedPair>> = micro.iter().map(|idx| pairs_of(idx)).collect();
            let (loss, logps) = self.sft_step(&batches, &mut tokens)?;
            let pairs = PairMetrics { loss, logps_chosen: logps, ..PairMetrics::default() };
            return self.finish_step(started, epoch, pairs, tokens);
        }
        let mut metrics = Vec::with_capacity(micro.len());
        for idx in &micro {
            let pairs = pairs_of(idx);
            let batch = self.batch(&pairs, &self.policy)?;
            let reference = self.reference_logps(&batch, idx)?;
            let policy = batch.logps(&self.policy, true)?;
            let out = dpo_loss(&self.cfg, &batch, &policy, &reference)?;
            out.loss.f_div_scalar(micro.len() as f64)?.f_backward()?;
            metrics.push(out.metrics);
            tokens += batch.tokens();
        }
        self.finish_step(started, epoch, PairMetrics::mean(&metrics), tokens)
    }

    /// Clips, steps the optimizer at the scheduled learning rate and counts the step.
    fn finish_step(&mut self, started: Instant, epoch: u64, pairs: PairMetrics, tokens: i64) -> Result<StepMetrics> {
        let grad_norm = self.optimizer.clip_grad_norm(self.cfg.max_grad_norm)?;
        let lr =
            self.cfg.learning_rate * lr_factor(self.cfg.lr_scheduler_type, self.step, self.warmup, self.total_steps);
        self.optimizer.step(lr)?;
        self.optimizer.zero_grad();
        self.step += 1;
        Ok(StepMetrics {
            step: self.step,
            epoch,
            learning_rate: lr,
            grad_norm,
            pairs,
            tokens,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// The gradients of one SFT step over its micro-batches: every chosen completion token's negative
    /// log-prob, summed and divided by the step's number of completion tokens (transformers'
    /// `num_items_in_batch`). Returns the loss and the mean chosen log-prob sum per example.
    fn sft_step(&self, batches: &[Vec<&TokenizedPair>], tokens: &mut i64) -> Result<(f64, f64)> {
        let total: usize = batches.iter().flatten().map(|p| p.chosen.len()).sum();
        let (mut loss, mut logps, mut examples) = (0.0, 0.0, 0usize);
        for pairs in batches {
            let batch = PairBatch::chosen_only(pairs, self.pad_id, &self.policy)?;
            let lp = batch.logps(&self.policy, true)?;
            let micro = lp.per_token.f_sum(Kind::Float)?.f_neg()?.f_div_scalar(total.max(1) as f64)?;
            micro.f_backward()?;
            loss += micro.f_double_value(&[])?;
            logps += lp.chosen.f_detach()?.f_sum(Kind::Float)?.f_double_value(&[])?;
            examples += pairs.len();
            *tokens += batch.tokens();
        }
        Ok((loss, logps / examples.max(1) as f64))
    }

    fn batch(&self, pairs: &[&TokenizedPair], model: &PolicyModel) -> Result<PairBatch> {
        if self.cfg.shared_prompt {
            PairBatch::packed(pairs, self.pad_id, model)
        } else {
            PairBatch::new(pairs, self.pad_id, model)
        }
    }

    fn reference_logps(&self, batch: &PairBatch, idx: &[usize]) -> Result<RefLogps> {
        match &self.reference {
            Reference::Model(model) => {
                let lp = batch.logps(model, false)?;
                Ok(RefLogps { chosen: lp.chosen, rejected: lp.rejected })
            }
            Reference::None => Err(config_err("loss_type", "supervised fine-tuning has no reference log-probs")),
            Reference::Precomputed(all) => {
                let device = self.policy.device();
                let chosen: Vec<f32> = idx.iter().map(|&i| all[i].0).collect();
                let rejected: Vec<f32> = idx.iter().map(|&i| all[i].1).collect();
                Ok(RefLogps {
                    chosen: Tensor::f_from_slice(&chosen)?.f_to_device(device)?,
                    rejected: Tensor::f_from_slice(&rejected)?.f_to_device(device)?,
                })
            }
        }
    }

    /// Runs the remaining steps. With `out`, a checkpoint is written there every `save_steps` steps
    /// (`out/checkpoint-STEP`). `on_step` sees every step's metrics.
    pub fn train(&mut self, out: Option<&Path>, mut on_step: impl FnMut(&StepMetrics)) -> Result<()> {
        while !self.is_done() {
            let m = self.step()?;
            on_step(&m);
            if let Some(out) = out
                && self.cfg.save_steps > 0
                && self.step.is_multiple_of(self.cfg.save_steps)
            {
                self.save_checkpoint(out)?;
            }
        }
        Ok(())
    }

    /// Writes `out/checkpoint-STEP` (weights in the Hugging Face layout, AdamW moments, step, options and
    /// pair ids) atomically: it is written under a temporary name and renamed when complete.
    pub fn save_checkpoint(&self, out: &Path) -> Result<PathBuf> {
        let precomputed = match &self.reference {
            Reference::Precomputed(r) => Some(r.clone()),
            Reference::Model(_) | Reference::None => None,
        };
        let state = TrainerState::new(self.step, &self.base, &self.cfg, &self.pairs, precomputed);
        checkpoint::write(out, &self.policy, &self.optimizer, &state)
    }

    /// Saves the policy in the Hugging Face layout.
    pub fn save_model(&self, out: &Path) -> Result<()> {
        self.policy.save(out)
    }
}

fn to_f32(t: &Tensor) -> Result<Vec<f32>> {
    let t = t.f_to_kind(Kind::Float)?.f_to_device(model::tch::Device::Cpu)?.f_contiguous()?;
    Vec::<f32>::try_from(&t).map_err(TrainError::from)
}
