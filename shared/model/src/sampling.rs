//! Choosing the next token from logits: greedy, or seeded sampling with temperature, top-k and top-p
//! applied in transformers' order and with its rules (`TemperatureLogitsWarper`, `TopKLogitsWarper`,
//! `TopPLogitsWarper`, `min_tokens_to_keep = 1`; one difference: where several logits tie with the k-th
//! largest, transformers keeps them all and this keeps exactly k). Every row has its own random stream, derived from the
//! seed and the row index, so a run is reproducible and a row's samples do not depend on the batch size
//! used to compute them.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tch::{Kind, Tensor};

use crate::batch::to_i64;
use crate::error::{ModelError, Result};

#[derive(Debug, Clone, PartialEq)]
pub enum Sampling {
    /// Argmax (the first maximum, as `torch.argmax`).
    Greedy,
    Random {
        temperature: f64,
        /// Keep the k highest logits; `None` keeps all.
        top_k: Option<usize>,
        /// Keep the smallest set of tokens whose probability reaches p; `None` keeps all.
        top_p: Option<f64>,
    },
}

impl Sampling {
    pub fn validate(&self) -> Result<()> {
        if let Sampling::Random { temperature, top_k, top_p } = self {
            if !(*temperature > 0.0 && temperature.is_finite()) {
                return Err(ModelError::Option(format!(
                    "temperature must be > 0 (use Greedy for 0), is {temperature}"
                )));
            }
            if *top_k == Some(0) {
                return Err(ModelError::Option("top_k must be >= 1 (None disables it)".into()));
            }
            if let Some(p) = top_p
                && !(*p > 0.0 && *p <= 1.0)
            {
                return Err(ModelError::Option(format!("top_p must be in (0, 1], is {p}")));
            }
        }
        Ok(())
    }
}

pub struct Sampler {
    sampling: Sampling,
    rngs: Vec<StdRng>,
}

impl Sampler {
    /// A sampler for `rows` rows; row r draws from a stream seeded by (`seed`, r).
    pub fn new(sampling: Sampling, seed: u64, rows: usize) -> Result<Self> {
        sampling.validate()?;
        let rngs = (0..rows as u64).map(|r| stream(seed, r)).collect();
        Ok(Sampler { sampling, rngs })
    }

    /// A sampler for `k` rows per prompt, prompt p seeded by `seeds[p]`: row s of prompt p draws from the
    /// stream (`seeds[p]`, s), so a prompt's samples are those it gets alone with `new(sampling, seeds[p], k)`
    /// whatever batch it is in.
    pub fn per_prompt(sampling: Sampling, seeds: &[u64], k: usize) -> Result<Self> {
        sampling.validate()?;
        let rngs = seeds.iter().flat_map(|&seed| (0..k as u64).map(move |s| stream(seed, s))).collect();
        Ok(Sampler { sampling, rngs })
    }

    /// The next token of every row, from logits `[rows, vocab]`.
    pub fn next(&mut self, logits: &Tensor) -> Result<Vec<i64>> {
        let _guard = tch::no_grad_guard();
        let logits = logits.f_to_kind(Kind::Float)?;
        let (rows, vocab) = (logits.size()[0], logits.size()[1]);
        if rows as usize != self.rngs.len() {
            return Err(ModelError::Input(format!("sampler made for {} rows, got {rows}", self.rngs.len())));
        }
        let Sampling::Random { temperature, top_k, top_p } = self.sampling else {
            return to_i64(&logits.f_argmax(-1, false)?);
        };
        let scores = logits.f_div_scalar(temperature)?;
        // After top-k every other logit is -inf, so top-p and the draw only need the k candidates: sorting
        // k values instead of the vocabulary is the same distribution at a fraction of the cost.
        let (scores, candidates) = match top_k {
            Some(k) => {
                let (top, idx) = scores.f_topk((k as i64).min(vocab), -1, true, true)?;
                (top, Some(idx))
            }
            None => (scores, None),
        };
        let n = scores.size()[1];
        let scores = match top_p {
            Some(p) if p < 1.0 => {
                let (sorted, idx) = scores.f_sort(-1, false)?;
                let cum = sorted.f_softmax(-1, Kind::Float)?.f_cumsum(-1, Kind::Float)?;
                let remove = cum.f_le(1.0 - p)?;
                // keep at least the most likely token (the last one in ascending order)
                let _ = remove.f_narrow(-1, n - 1, 1)?.f_fill_(0)?;
                let remove = remove.f_scatter(1, &idx, &remove)?;
                scores.f_masked_fill(&remove, f64::NEG_INFINITY)?
            }
            _ => scores,
        };
        let cdf = scores.f_softmax(-1, Kind::Float)?.f_cumsum(-1, Kind::Float)?;
        // inverse-CDF draw: u in (0, total]; the first token whose CDF reaches u
        let u: Vec<f32> = self.rngs.iter_mut().map(|r| 1.0 - r.random::<f32>()).collect();
        let u = Tensor::f_from_slice(&u)?.f_to_device(cdf.device())?.f_unsqueeze(1)?;
        let total = cdf.f_narrow(-1, n - 1, 1)?;
        let below = cdf.f_lt_tensor(&u.f_mul(&total)?)?.f_sum_dim_intlist(-1, true, Kind::Int64)?.f_clamp_max(n - 1)?;
        match candidates {
            Some(idx) => to_i64(&idx.f_gather(1, &below, false)?),
            None => to_i64(&below),
        }
    }
}

/// The random stream of row `r` of a sampler seeded by `seed`.
fn stream(seed: u64, r: u64) -> StdRng {
    StdRng::seed_from_u64(seed ^ r.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logits() -> Tensor {
        Tensor::from_slice(&[0.0f32, 1.0, 3.0, 2.0, -1.0, 0.5, 0.5, 4.0]).view([2, 4])
    }

    #[test]
    fn greedy_takes_the_first_maximum() -> Result<()> {
        let mut s = Sampler::new(Sampling::Greedy, 0, 2)?;
        assert_eq!(s.next(&logits())?, vec![2, 3]);
        Ok(())
    }

    #[test]
    fn top_k_one_is_greedy_and_seeds_reproduce() -> Result<()> {
        let one = Sampling::Random { temperature: 1.0, top_k: Some(1), top_p: None };
        assert_eq!(Sampler::new(one, 7, 2)?.next(&logits())?, vec![2, 3]);
        let wide = Sampling::Random { temperature: 5.0, top_k: None, top_p: None };
        let draw = |seed| -> Result<Vec<i64>> {
            let mut s = Sampler::new(wide.clone(), seed, 2)?;
            let mut out = Vec::new();
            for _ in 0..50 {
                out.extend(s.next(&logits())?);
            }
            Ok(out)
        };
        assert_eq!(draw(1)?, draw(1)?);
        assert_ne!(draw(1)?, draw(2)?);
        // a hot temperature reaches every token of row 0
        let seen: std::collections::BTreeSet<i64> = draw(1)?.iter().step_by(2).copied().collect();
        assert_eq!(seen.len(), 4);
        Ok(())
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_p() -> Result<()> {
        // row probabilities ~ softmax([0, 1, 3, 2]) = [.032, .087, .644, .237]: p = 0.7 keeps {2, 3}
        let s = Sampling::Random { temperature: 1.0, top_k: None, top_p: Some(0.7) };
        let mut sampler = Sampler::new(s, 3, 2)?;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.insert(sampler.next(&logits())?[0]);
        }
        assert_eq!(seen, [2, 3].into_iter().collect());
        Ok(())
    }

    #[test]
    fn top_k_then_top_p_on_the_candidates() -> Result<()> {
        // row 0 top-3 = tokens {2, 3, 1}, renormalised ~ [.665, .245, .090]; p = 0.7 drops token 1
        let s = Sampling::Random { temperature: 1.0, top_k: Some(3), top_p: Some(0.7) };
        let mut sampler = Sampler::new(s, 4, 2)?;
        let mut seen = std::collections::BTreeMap::new();
        for _ in 0..300 {
            *seen.entry(sampler.next(&logits())?[0]).or_insert(0) += 1;
        }
        assert_eq!(seen.keys().copied().collect::<Vec<_>>(), vec![2, 3]);
        // token 2 carries ~.665 / (.665 + .245) = 73% of the mass
        let share = f64::from(seen[&2]) / 300.0;
        assert!((0.6..0.85).contains(&share), "{share}");
        Ok(())
    }
}
