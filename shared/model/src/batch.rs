//! Padding token sequences into a batch with its attention mask and positions.

use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result};
use crate::qwen2::positions_from_mask;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaddingSide {
    Left,
    Right,
}

/// A padded batch on the model's device: `[batch, len]` ids, mask (1 real, 0 pad) and positions.
pub struct PaddedBatch {
    pub input_ids: Tensor,
    pub attention_mask: Tensor,
    pub positions: Tensor,
    pub lengths: Vec<i64>,
    pub side: PaddingSide,
}

impl PaddedBatch {
    pub fn new(seqs: &[&[u32]], pad_id: u32, side: PaddingSide, device: Device) -> Result<Self> {
        if seqs.is_empty() {
            return Err(ModelError::Input("empty batch".into()));
        }
        let len = seqs.iter().map(|s| s.len()).max().unwrap_or(0);
        if len == 0 {
            return Err(ModelError::Input("every sequence of the batch is empty".into()));
        }
        let mut ids = Vec::with_capacity(seqs.len() * len);
        let mut mask = Vec::with_capacity(seqs.len() * len);
        for s in seqs {
            let pad = len - s.len();
            let (real_ids, real_mask) = (s.iter().map(|&t| i64::from(t)), std::iter::repeat_n(1i64, s.len()));
            let (pad_ids, pad_mask) = (std::iter::repeat_n(i64::from(pad_id), pad), std::iter::repeat_n(0i64, pad));
            match side {
                PaddingSide::Left => {
                    ids.extend(pad_ids.chain(real_ids));
                    mask.extend(pad_mask.chain(real_mask));
                }
                PaddingSide::Right => {
                    ids.extend(real_ids.chain(pad_ids));
                    mask.extend(real_mask.chain(pad_mask));
                }
            }
        }
        let shape = [seqs.len() as i64, len as i64];
        let input_ids = Tensor::f_from_slice(&ids)?.f_view(shape)?.f_to_device(device)?;
        let attention_mask = Tensor::f_from_slice(&mask)?.f_view(shape)?.f_to_device(device)?;
        let positions = positions_from_mask(&attention_mask)?;
        Ok(PaddedBatch {
            input_ids,
            attention_mask,
            positions,
            lengths: seqs.iter().map(|s| s.len() as i64).collect(),
            side,
        })
    }

    pub fn len(&self) -> i64 {
        self.input_ids.size()[1]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Column of row `row`'s `i`-th real token.
    pub fn column(&self, row: usize, i: i64) -> i64 {
        match self.side {
            PaddingSide::Left => self.len() - self.lengths[row] + i,
            PaddingSide::Right => i,
        }
    }
}

pub(crate) fn to_i64(t: &Tensor) -> Result<Vec<i64>> {
    let t = t.f_to_kind(Kind::Int64)?.f_to_device(Device::Cpu)?.f_contiguous()?.f_view(-1)?;
    Ok(Vec::<i64>::try_from(&t)?)
}

pub(crate) fn to_f32(t: &Tensor) -> Result<Vec<f32>> {
    let t = t.f_to_kind(Kind::Float)?.f_to_device(Device::Cpu)?.f_contiguous()?.f_view(-1)?;
    Ok(Vec::<f32>::try_from(&t)?)
}
