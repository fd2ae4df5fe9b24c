//! Per-sequence completion log-probabilities of a micro-batch of pairs, as TRL computes them: one padded
//! forward over `[prompt+chosen; prompt+rejected]` (chosen rows first), right padding, and the sum of
//! `log p(token)` over the completion tokens of each row. The language-model head runs only on the rows
//! that predict completion tokens.
//!
//! [`PairBatch::packed`] is the faster layout (criticloop's `shared_prompt` option): one row per pair,
//! `prompt + chosen + rejected`, where the rejected tokens take the positions after the prompt and an
//! attention bias hides the chosen tokens from them. The prompt is computed once instead of twice; the
//! result is the same function, rounded differently.

use model::tch::{Kind, Tensor};
use model::{ImageInput, PaddedBatch, PaddingSide, StepInput};

use crate::error::Result;
use crate::pairs::TokenizedPair;
use crate::policy::{BatchImages, PolicyModel};
use crate::vision_pairs::batch_images;

/// The token layout of a micro-batch, built once and reused for the policy and the reference.
pub struct PairBatch {
    batch: PaddedBatch,
    /// Flat `[2B * len]` index of each position that predicts a completion token.
    rows: Tensor,
    targets: Tensor,
    /// Flat `[2B * width]` index of each predicted token in TRL's shifted per-token layout.
    shifted: Tensor,
    width: i64,
    /// The packed layout's attention bias `[B, 1, len, len]`.
    bias: Option<Tensor>,
    /// Pixel values for the rows' `<image>` placeholders, in reading order (LLaVA-OneVision policies).
    images: BatchImages,
    /// Completion lengths: `B` chosen then `B` rejected.
    pub completion_lens: Vec<i64>,
    /// Number of pairs `B`.
    pub pairs: usize,
    /// Rows of the layout: `2B`, or `B` for [`PairBatch::chosen_only`].
    rows_count: usize,
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
    pub fn new(pairs: &[&TokenizedPair], pad_id: u32, model: &PolicyModel) -> Result<Self> {
        Self::rows(pairs, pad_id, model, true)
    }

    /// The chosen rows only (supervised fine-tuning): `rejected` log-probs come back empty.
    pub fn chosen_only(pairs: &[&TokenizedPair], pad_id: u32, model: &PolicyModel) -> Result<Self> {
        Self::rows(pairs, pad_id, model, false)
    }

    fn rows(pairs: &[&TokenizedPair], pad_id: u32, model: &PolicyModel, with_rejected: bool) -> Result<Self> {
        let device = model.device();
        let sides: Vec<&TokenizedPair> =
            if with_rejected { pairs.iter().chain(pairs).copied().collect() } else { pairs.to_vec() };
        // chosen rows, then rejected rows: each pair's images twice, as TRL's collator repeats them
        let images = batch_images(sides.iter().map(|p| p.images.as_slice()), model)?;
        let mut seqs: Vec<Vec<u32>> = pairs.iter().map(|p| [p.prompt.as_slice(), &p.chosen].concat()).collect();
        if with_rejected {
            seqs.extend(pairs.iter().map(|p| [p.prompt.as_slice(), &p.rejected].concat()));
        }
        let refs: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let batch = PaddedBatch::new(&refs, pad_id, PaddingSide::Right, device)?;
        let len = batch.len();
        let mut rows = Vec::new();
        let mut targets = Vec::new();
        let mut shifted = Vec::new();
        let mut completion_lens = Vec::with_capacity(2 * pairs.len());
        let mut chosen_tokens = 0;
        let rejected = pairs.iter().map(|p| (p, &p.rejected)).take(if with_rejected { pairs.len() } else { 0 });
        let sides = pairs.iter().map(|p| (p, &p.chosen)).chain(rejected);
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
            width: len - 1,
            bias: None,
            images,
            completion_lens,
            pairs: pairs.len(),
            rows_count: seqs.len(),
            chosen_tokens,
        })
    }

    /// The packed layout: row `i` is `prompt + chosen + rejected` of pair `i`, right-padded.
    pub fn packed(pairs: &[&TokenizedPair], pad_id: u32, model: &PolicyModel) -> Result<Self> {
        let device = model.device();
        let images = batch_images(pairs.iter().map(|p| p.images.as_slice()), model)?;
        let b = pairs.len();
        let len = pairs.iter().map(|p| p.prompt.len() + p.chosen.len() + p.rejected.len()).max().unwrap_or(0);
        let width = pairs.iter().map(|p| p.chosen.len().max(p.rejected.len())).max().unwrap_or(0) as i64;
        let (l, li) = (len, len as i64);
        let lowest = match model.dtype().kind() {
            Kind::Half => -65504.0f32,
            _ => -3.389_531_4e38, // bfloat16's lowest finite value, also finite in float32
        };
        let mut ids = vec![i64::from(pad_id); b * l];
        let mut positions = vec![1i64; b * l];
        let mut mask = vec![0i64; b * l];
        let mut bias = vec![lowest; b * l * l];
        let (mut rows, mut targets, mut shifted) = (Vec::new(), Vec::new(), Vec::new());
        let (mut r_rows, mut r_targets) = (Vec::new(), Vec::new());
        let mut lengths = Vec::with_capacity(b);
        for (i, p) in pairs.iter().enumerate() {
            let (np, nc, nr) = (p.prompt.len(), p.chosen.len(), p.rejected.len());
            let n = np + nc + nr;
            lengths.push(n as i64);
            let row = &mut ids[i * l..i * l + n];
            row[..np].copy_from_slice(&p.prompt.iter().map(|&t| i64::from(t)).collect::<Vec<_>>());
            row[np..np + nc].copy_from_slice(&p.chosen.iter().map(|&t| i64::from(t)).collect::<Vec<_>>());
            row[np + nc..].copy_from_slice(&p.rejected.iter().map(|&t| i64::from(t)).collect::<Vec<_>>());
            for q in 0..n {
                positions[i * l + q] = if q < np + nc { q as i64 } else { (q - nc) as i64 };
                mask[i * l + q] = 1;
                let q_rejected = q >= np + nc;
                for k in 0..=q {
                    let k_chosen = (np..np + nc).contains(&k);
                    if !(q_rejected && k_chosen) {
                        bias[(i * l + q) * l + k] = 0.0;
                    }
                }
            }
            let base = (i * l) as i64;
            let (np, nc) = (np as i64, nc as i64);
            for (j, &tok) in p.chosen.iter().enumerate() {
                rows.push(base + np - 1 + j as i64);
                targets.push(i64::from(tok));
                shifted.push(i as i64 * width + j as i64);
            }
            for (j, &tok) in p.rejected.iter().enumerate() {
                let j = j as i64;
                r_rows.push(base + if j == 0 { np - 1 } else { np + nc + j - 1 });
                r_targets.push(i64::from(tok));
            }
        }
        // rejected tokens after all chosen ones, as in the unpacked layout
        for (i, p) in pairs.iter().enumerate() {
            for j in 0..p.rejected.len() as i64 {
                shifted.push((b + i) as i64 * width + j);
            }
        }
        let shape = [b as i64, li];
        let batch = PaddedBatch {
            input_ids: Tensor::f_from_slice(&ids)?.f_view(shape)?.f_to_device(device)?,
            attention_mask: Tensor::f_from_slice(&mask)?.f_view(shape)?.f_to_device(device)?,
            positions: Tensor::f_from_slice(&positions)?.f_view(shape)?.f_to_device(device)?,
            lengths,
            side: PaddingSide::Right,
        };
        let bias = Tensor::f_from_slice(&bias)?.f_view([b as i64, 1, li, li])?.f_to_device(device)?;
        // the chosen tokens come first among the predicted tokens
        let chosen_rows = rows.len();
        rows.extend(r_rows);
        targets.extend(r_targets);
        Ok(PairBatch {
            batch,
            rows: Tensor::f_from_slice(&rows)?.f_to_device(device)?,
            targets: Tensor::f_from_slice(&targets)?.f_to_device(device)?.f_unsqueeze(1)?,
            shifted: Tensor::f_from_slice(&shifted)?.f_to_device(device)?,
            width,
            bias: Some(bias),
            images,
            completion_lens: pairs
                .iter()
                .map(|p| p.chosen.len() as i64)
                .chain(pairs.iter().map(|p| p.rejected.len() as i64))
                .collect(),
            pairs: b,
            rows_count: 2 * b,
            chosen_tokens: chosen_rows as i64,
        })
    }

    /// Runs `model` over the batch; with `grad` the result keeps the autograd graph.
    pub fn logps(&self, model: &PolicyModel, grad: bool) -> Result<SequenceLogps> {
        let input = StepInput {
            input_ids: &self.batch.input_ids,
            positions: &self.batch.positions,
            attention_mask: &self.batch.attention_mask,
        };
        let _guard = (!grad).then(model::tch::no_grad_guard);
        let images: Vec<ImageInput<'_>> = self
            .images
            .iter()
            .map(|(pixels, size, tiled)| ImageInput { pixel_values: pixels, size: *size, tiled: *tiled })
            .collect();
        let hidden = model.hidden(&input, self.bias.as_ref(), &images, grad)?;
        let size = hidden.size();
        let flat = hidden.f_reshape([size[0] * size[1], size[2]])?;
        let picked = flat.f_index_select(0, &self.rows)?;
        let logp = model.language_model().lm_head(&picked)?.f_log_softmax(-1, Kind::Float)?;
        let per_token = logp.f_gather(1, &self.targets, false)?.f_squeeze_dim(1)?;
        // summed as TRL sums: a zero-filled `[2B, len - 1]` row per sequence, reduced along the row
        let n = self.rows_count as i64;
        let grid = Tensor::f_zeros([n * self.width], (Kind::Float, per_token.device()))?.f_index_put(
            &[Some(&self.shifted)],
            &per_token,
            false,
        )?;
        let sums = grid.f_view([n, self.width])?.f_sum_dim_intlist(1, false, Kind::Float)?;
        let b = self.pairs as i64;
        let rejected = sums.f_narrow(0, b, n - b)?;
        Ok(SequenceLogps { chosen: sums.f_narrow(0, 0, b)?, rejected, per_token })
    }

    /// Number of non-padding tokens (prompt and completion, both sides).
    pub fn tokens(&self) -> i64 {
        self.batch.lengths.iter().sum()
    }
}
