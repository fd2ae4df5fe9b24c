//! Per-sequence completion log-probabilities of a micro-batch of pairs, as TRL computes them: one padded
//! forward over `[prompt+chosen; prompt+rejected]` (chosen rows first), right padding, and the sum of
//! `log p(token)` over the completion tokens of each row. The language-model head runs only on the rows
//! that predict completion tokens.

use model::tch::{Kind, Tensor};
use model::{PaddedBatch, PaddingSide, Qwen2ForCausalLM, StepInput};

use crate::error::Result;
use crate::pairs::TokenizedPair;

/// The token layout of a micro-batch, built once and reused for the policy and the reference.
pub struct PairBatch {
    batch: PaddedBatch,
    /// Flat `[2B * len]` index of each position that predicts a completion token.
    rows: Tensor,
    targets: Tensor,
    /// Flat `[2B * (len - 1)]` index of each predicted token in TRL's shifted per-token layout.
    shifted: Tensor,
    len: i64,
    /// Completion lengths: `B` chosen then `B` rejected.
    pub completion_lens: Vec<i64>,
    /// Number of pairs `B`.
    pub pairs: usize,
    /// Number of predicted tokens belonging to chosen completions (they come first in `rows`).
    pub chosen_tokens: i64,
}

/// Log-probabilities of one micro-batch.
pub struct SequenceLogps {
    /// `[tokens]`: chosen completions' tokens first, then the rejected ones.
    pub per_token: Tensor,
    /// `[B]` sums over each chosen completion.
    pub chosen: Tensor,
    /// `[B]` sums over each rejected completion.
    pub rejected: Tensor,
}

impl PairBatch {
    pub fn new(pairs: &[&TokenizedPair], pad_id: u32, model: &Qwen2ForCausalLM) -> Result<Self> {
        let device = model.device();
        let mut seqs: Vec<Vec<u32>> = pairs.iter().map(|p| [p.prompt.as_slice(), &p.chosen].concat()).collect();
        seqs.extend(pairs.iter().map(|p| [p.prompt.as_slice(), &p.rejected].concat()));
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let batch = PaddedBatch::new(&refs, pad_id, PaddingSide::Right, device)?;
        let len = batch.len();
        let mut rows = Vec::new();
        let mut targets = Vec::new();
        let mut shifted = Vec::new();
        let mut completion_lens = Vec::with_capacity(2 * pairs.len());
        let mut chosen_tokens = 0;
        let sides = pairs.iter().map(|p| (p, &p.chosen)).chain(pairs.iter().map(|p| (p, &p.rejected)));
        for (s, (pair, completion)) in sides.enumerate() {
            let prompt = pair.prompt.len() as i64;
            for (j, &tok) in completion.iter().enumerate() {
                rows.push(s as i64 * len + prompt - 1 + j as i64);
                targets.push(i64::from(tok));
                shifted.push(s as i64 * (len - 1) + prompt - 1 + j as i64);
            }
            completion_lens.push(completion.len() as i64);
            if s < pairs.len() {
                chosen_tokens += completion.len() as i64;
            }
        }
        Ok(PairBatch {
            batch,
            rows: Tensor::f_from_slice(&rows)?.f_to_device(device)?,
            targets: Tensor::f_from_slice(&targets)?.f_to_device(device)?.f_unsqueeze(1)?,
            shifted: Tensor::f_from_slice(&shifted)?.f_to_device(device)?,
            len,
            completion_lens,
            pairs: pairs.len(),
            chosen_tokens,
        })
    }

    /// Runs `model` over the batch; with `grad` the result keeps the autograd graph.
    pub fn logps(&self, model: &Qwen2ForCausalLM, grad: bool) -> Result<SequenceLogps> {
        let input = StepInput {
            input_ids: &self.batch.input_ids,
            positions: &self.batch.positions,
            attention_mask: &self.batch.attention_mask,
        };
        let _guard = (!grad).then(model::tch::no_grad_guard);
        let hidden = if grad { model.forward_hidden_with_grad(&input)? } else { model.forward_hidden(&input, None)? };
        let size = hidden.size();
        let flat = hidden.f_reshape([size[0] * size[1], size[2]])?;
        let picked = flat.f_index_select(0, &self.rows)?;
        let logp = model.lm_head(&picked)?.f_log_softmax(-1, Kind::Float)?;
        let per_token = logp.f_gather(1, &self.targets, false)?.f_squeeze_dim(1)?;
        // summed as TRL sums: a zero-filled `[2B, len - 1]` row per sequence, reduced along the row
        let n = 2 * self.pairs as i64;
        let grid = Tensor::f_zeros([n * (self.len - 1)], (Kind::Float, per_token.device()))?.f_index_put(
            &[Some(&self.shifted)],
            &per_token,
            false,
        )?;
        let sums = grid.f_view([n, self.len - 1])?.f_sum_dim_intlist(1, false, Kind::Float)?;
        let b = self.pairs as i64;
        Ok(SequenceLogps { chosen: sums.f_narrow(0, 0, b)?, rejected: sums.f_narrow(0, b, b)?, per_token })
    }

    /// Number of non-padding tokens (prompt and completion, both sides).
    pub fn tokens(&self) -> i64 {
        self.batch.lengths.iter().sum()
    }
}
