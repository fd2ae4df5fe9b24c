//! Log-probabilities of given responses after given prompts, batched.

use tch::{Kind, Tensor};

use crate::batch::{PaddedBatch, PaddingSide, to_f32};
use crate::error::{ModelError, Result};
use crate::qwen2::{Qwen2ForCausalLM, StepInput};

/// One prompt and the response whose log-probability is wanted (token ids).
#[derive(Debug, Clone)]
pub struct ScoreRequest<'a> {
    pub prompt: &'a [u32],
    pub response: &'a [u32],
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponseLogprobs {
    /// log p(response[i] | prompt, response[..i]), natural log.
    pub per_token: Vec<f32>,
    /// Sum of `per_token`, accumulated in f64.
    pub sum: f64,
}

/// Scores every request in one padded forward pass. The language-model head runs only on the positions
/// that predict response tokens, so the cost is one forward plus `sum(response lengths)` rows of the head.
pub fn response_logprobs(model: &Qwen2ForCausalLM, requests: &[ScoreRequest<'_>]) -> Result<Vec<ResponseLogprobs>> {
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<Vec<u32>> = requests
        .iter()
        .enumerate()
        .map(|(i, r)| {
            if r.prompt.is_empty() {
                return Err(ModelError::Input(format!("request {i}: empty prompt (nothing predicts the first token)")));
            }
            Ok([r.prompt, r.response].concat())
        })
        .collect::<Result<_>>()?;
    let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
    let pad = model.config().pad_token_id.unwrap_or(0).max(0) as u32;
    let batch = PaddedBatch::new(&refs, pad, PaddingSide::Right, model.device())?;
    let hidden = model.forward_hidden(
        &StepInput { input_ids: &batch.input_ids, positions: &batch.positions, attention_mask: &batch.attention_mask },
        None,
    )?;
    let _guard = tch::no_grad_guard();
    let (b, l) = (hidden.size()[0], hidden.size()[1]);
    // flat row index of each predicting position, and the token it predicts
    let mut rows = Vec::new();
    let mut targets = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let p = r.prompt.len() as i64;
        for (j, &tok) in r.response.iter().enumerate() {
            rows.push(i as i64 * l + batch.column(i, p - 1 + j as i64));
            targets.push(i64::from(tok));
        }
    }
    let mut per_token_all = Vec::new();
    if !rows.is_empty() {
        let device = model.device();
        let flat = hidden.f_reshape([b * l, -1])?;
        let picked = flat.f_index_select(0, &Tensor::f_from_slice(&rows)?.f_to_device(device)?)?;
        let logp = model.lm_head(&picked)?.f_log_softmax(-1, Kind::Float)?;
        let idx = Tensor::f_from_slice(&targets)?.f_to_device(device)?.f_unsqueeze(1)?;
        let vocab = logp.size()[1];
        if targets.iter().any(|&t| t < 0 || t >= vocab) {
            return Err(ModelError::Input(format!("response token outside the vocabulary 0..{vocab}")));
        }
        per_token_all = to_f32(&logp.f_gather(1, &idx, false)?)?;
    }
    let mut out = Vec::with_capacity(requests.len());
    let mut it = per_token_all.into_iter();
    for r in requests {
        let per_token: Vec<f32> = it.by_ref().take(r.response.len()).collect();
        let sum = per_token.iter().map(|&x| f64::from(x)).sum();
        out.push(ResponseLogprobs { per_token, sum });
    }
    Ok(out)
}
