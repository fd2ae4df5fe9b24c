//! Batched generation with a KV cache: one prefill of the left-padded prompts, then one token per step.
//! With `samples_per_prompt = K > 1` the prefill runs once per prompt and its cache is repeated K ways.

use tch::{Kind, Tensor};

use crate::batch::{PaddedBatch, PaddingSide};
use crate::error::{ModelError, Result};
use crate::qwen2::{Qwen2ForCausalLM, StepInput};
use crate::sampling::{Sampler, Sampling};

#[derive(Debug, Clone)]
pub struct GenerateConfig {
    pub max_new_tokens: usize,
    pub sampling: Sampling,
    /// A row stops after emitting one of these (the stop token is kept in its output).
    pub stop_token_ids: Vec<u32>,
    /// K samples of each prompt, sharing the prompt's prefill.
    pub samples_per_prompt: usize,
    pub seed: u64,
    /// One seed per prompt, instead of `seed`: sample s of prompt p draws from the stream (`prompt_seeds[p]`,
    /// s), so a prompt's samples do not depend on the batch it is generated in (with `None`, rows are
    /// numbered across the batch from `seed`; for one prompt both are the same).
    pub prompt_seeds: Option<Vec<u64>>,
}

impl Default for GenerateConfig {
    fn default() -> Self {
        GenerateConfig {
            max_new_tokens: 32,
            sampling: Sampling::Greedy,
            stop_token_ids: Vec::new(),
            samples_per_prompt: 1,
            seed: 0,
            prompt_seeds: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// Emitted this stop token.
    Stop(u32),
    /// Reached `max_new_tokens`.
    Length,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub tokens: Vec<u32>,
    pub finish: FinishReason,
}

/// Generates for every prompt; the result is `[prompt][sample]`.
pub fn generate(model: &Qwen2ForCausalLM, prompts: &[&[u32]], cfg: &GenerateConfig) -> Result<Vec<Vec<Completion>>> {
    generate_with(model, prompts, cfg, &|ids: &Tensor| model.embed(ids))
}

/// `generate` whose prefill embeds the left-padded prompt ids `[prompts, len]` with `embed` (a multimodal
/// model puts its image features at the `<image>` positions); the decoding steps embed tokens as usual.
pub fn generate_with(
    model: &Qwen2ForCausalLM,
    prompts: &[&[u32]],
    cfg: &GenerateConfig,
    embed: &dyn Fn(&Tensor) -> Result<Tensor>,
) -> Result<Vec<Vec<Completion>>> {
    let k = cfg.samples_per_prompt;
    if k == 0 {
        return Err(ModelError::Option("samples_per_prompt must be >= 1".into()));
    }
    cfg.sampling.validate()?;
    if let Some(seeds) = &cfg.prompt_seeds
        && seeds.len() != prompts.len()
    {
        return Err(ModelError::Option(format!(
            "prompt_seeds has {} seeds for {} prompts",
            seeds.len(),
            prompts.len()
        )));
    }
    if let Some(i) = prompts.iter().position(|p| p.is_empty()) {
        return Err(ModelError::Input(format!("prompt {i} is empty")));
    }
    if prompts.is_empty() {
        return Ok(Vec::new());
    }
    let rows = prompts.len() * k;
    let mut tokens: Vec<Vec<u32>> = vec![Vec::with_capacity(cfg.max_new_tokens); rows];
    let mut finish: Vec<Option<FinishReason>> = vec![None; rows];
    if cfg.max_new_tokens > 0 {
        decode(model, prompts, cfg, embed, &mut tokens, &mut finish)?;
    }
    let mut out = Vec::with_capacity(prompts.len());
    let mut it = tokens.into_iter().zip(finish);
    for _ in 0..prompts.len() {
        out.push(
            it.by_ref()
                .take(k)
                .map(|(tokens, f)| Completion { tokens, finish: f.unwrap_or(FinishReason::Length) })
                .collect(),
        );
    }
    Ok(out)
}

fn decode(
    model: &Qwen2ForCausalLM,
    prompts: &[&[u32]],
    cfg: &GenerateConfig,
    embed: &dyn Fn(&Tensor) -> Result<Tensor>,
    tokens: &mut [Vec<u32>],
    finish: &mut [Option<FinishReason>],
) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let device = model.device();
    let k = cfg.samples_per_prompt as i64;
    let pad = model.config().pad_token_id.unwrap_or(0).max(0);
    let batch = PaddedBatch::new(prompts, pad as u32, PaddingSide::Left, device)?;
    let len = batch.len();
    let mut cache = model.new_cache(prompts.len() as i64, len + cfg.max_new_tokens as i64)?;
    let embeds = embed(&batch.input_ids)?;
    let hidden = model.forward_embeds(&embeds, &batch.positions, &batch.attention_mask, Some(&mut cache))?;
    // left padding: the last column is every prompt's last token
    let mut logits = model.lm_head(&hidden.f_select(1, len - 1)?)?;
    let mut mask = batch.attention_mask.shallow_clone();
    let mut last_pos = batch.positions.f_select(1, len - 1)?;
    if k > 1 {
        cache.repeat_rows(k)?;
        logits = logits.f_repeat_interleave_self_int(k, Some(0), None)?;
        mask = mask.f_repeat_interleave_self_int(k, Some(0), None)?;
        last_pos = last_pos.f_repeat_interleave_self_int(k, Some(0), None)?;
    }
    let rows = tokens.len();
    let mut sampler = match &cfg.prompt_seeds {
        Some(seeds) => Sampler::per_prompt(cfg.sampling.clone(), seeds, cfg.samples_per_prompt)?,
        None => Sampler::new(cfg.sampling.clone(), cfg.seed, rows)?,
    };
    let ones = Tensor::f_ones([rows as i64, 1], (Kind::Int64, device))?;
    for step in 0..cfg.max_new_tokens {
        let next = sampler.next(&logits)?;
        let mut feed = Vec::with_capacity(rows);
        for (r, &t) in next.iter().enumerate() {
            if finish[r].is_some() {
                feed.push(pad);
                continue;
            }
            let t = u32::try_from(t).map_err(|_| ModelError::Input(format!("sampled token {t}")))?;
            tokens[r].push(t);
            if cfg.stop_token_ids.contains(&t) {
                finish[r] = Some(FinishReason::Stop(t));
            }
            feed.push(i64::from(t));
        }
        if step + 1 == cfg.max_new_tokens || finish.iter().all(Option::is_some) {
            break;
        }
        let ids = Tensor::f_from_slice(&feed)?.f_to_device(device)?.f_view([rows as i64, 1])?;
        mask = Tensor::f_cat(&[&mask, &ones], 1)?;
        last_pos = last_pos.f_add_scalar(1)?;
        let positions = last_pos.f_view([rows as i64, 1])?;
        let hidden = model.forward_hidden(
            &StepInput { input_ids: &ids, positions: &positions, attention_mask: &mask },
            Some(&mut cache),
        )?;
        logits = model.lm_head(&hidden.f_select(1, 0)?)?;
    }
    Ok(())
}
