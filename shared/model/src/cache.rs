//! A key/value cache with preallocated buffers: each forward step writes its new keys and values in place
//! and attends over the filled prefix, so decoding one token costs no copy of the past.

use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result};

pub struct KvCache {
    /// Per layer: keys and values, each `[batch, kv_heads, capacity, head_dim]`.
    layers: Vec<(Tensor, Tensor)>,
    len: i64,
    capacity: i64,
}

impl KvCache {
    pub fn new(
        layers: i64,
        batch: i64,
        kv_heads: i64,
        head_dim: i64,
        capacity: i64,
        kind: Kind,
        device: Device,
    ) -> Result<Self> {
        let mut out = Vec::with_capacity(layers as usize);
        for _ in 0..layers {
            let shape = [batch, kv_heads, capacity, head_dim];
            out.push((Tensor::f_zeros(shape, (kind, device))?, Tensor::f_zeros(shape, (kind, device))?));
        }
        Ok(KvCache { layers: out, len: 0, capacity })
    }

    /// Number of positions already stored.
    pub fn len(&self) -> i64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn capacity(&self) -> i64 {
        self.capacity
    }

    /// Writes `k`, `v` (`[batch, kv_heads, t, head_dim]`) of `layer` after the stored prefix and returns
    /// the keys and values of prefix + new positions. The length advances in `advance`, once all layers
    /// have written.
    pub fn append(&mut self, layer: usize, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        let t = k.size()[2];
        if self.len + t > self.capacity {
            return Err(ModelError::Input(format!(
                "KV cache full: {} stored + {t} new > capacity {}",
                self.len, self.capacity
            )));
        }
        let (kc, vc) =
            self.layers.get_mut(layer).ok_or_else(|| ModelError::Input(format!("KV cache has no layer {layer}")))?;
        kc.f_narrow(2, self.len, t)?.f_copy_(k)?;
        vc.f_narrow(2, self.len, t)?.f_copy_(v)?;
        Ok((kc.f_narrow(2, 0, self.len + t)?, vc.f_narrow(2, 0, self.len + t)?))
    }

    pub fn advance(&mut self, t: i64) {
        self.len += t;
    }

    /// Repeats every batch row `k` times in place of the original (row r becomes rows r*k .. r*k+k):
    /// one prefill shared by k samples.
    pub fn repeat_rows(&mut self, k: i64) -> Result<()> {
        for (kc, vc) in &mut self.layers {
            *kc = kc.f_repeat_interleave_self_int(k, Some(0), None)?;
            *vc = vc.f_repeat_interleave_self_int(k, Some(0), None)?;
        }
        Ok(())
    }
}
