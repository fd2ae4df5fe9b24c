//! Pearson, Spearman and Kendall's tau-b, computed the way scipy.stats does (pearsonr, spearmanr,
//! kendalltau with variant "b"), so results agree to ~1e-12.

use super::rank::average_ranks;
use super::{MetricError, check_pair};

/// Pearson's r (scipy.stats.pearsonr): centred, scaled by the largest deviation to avoid overflow,
/// normalised, then clipped to [-1, 1].
pub fn pearson(x: &[f64], y: &[f64]) -> Result<f64, MetricError> {
    check_pair(x, y, 2)?;
    let xm = centred_unit(x)?;
    let ym = centred_unit(y)?;
    let r: f64 = xm.iter().zip(&ym).map(|(a, b)| a * b).sum();
    Ok(r.clamp(-1.0, 1.0))
}

/// x minus its mean, divided by the largest |deviation| and then by its norm.
fn centred_unit(x: &[f64]) -> Result<Vec<f64>, MetricError> {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let mut d: Vec<f64> = x.iter().map(|v| v - mean).collect();
    let max = d.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if max == 0.0 {
        return Err(MetricError::Constant);
    }
    d.iter_mut().for_each(|v| *v /= max);
    let norm = d.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm == 0.0 {
        return Err(MetricError::Constant);
    }
    d.iter_mut().for_each(|v| *v /= norm);
    Ok(d)
}

/// Spearman's rho (scipy.stats.spearmanr): Pearson's r of the average ranks.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<f64, MetricError> {
    check_pair(x, y, 2)?;
    pearson(&average_ranks(x), &average_ranks(y))
}

/// Kendall's tau-b (scipy.stats.kendalltau, variant "b"), O(n log n) by Knight's algorithm:
/// tau_b = (concordant - discordant) / sqrt((n0 - ties_x) (n0 - ties_y)), n0 = n(n-1)/2.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<f64, MetricError> {
    check_pair(x, y, 2)?;
    let n = x.len();
    // sort by x, then y
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));
    let xs: Vec<f64> = order.iter().map(|&i| x[i]).collect();
    let mut ys: Vec<f64> = order.iter().map(|&i| y[i]).collect();

    let x_ties = tied_pairs(&xs, |a, b| xs[a] == xs[b]);
    let xy_ties = tied_pairs(&xs, |a, b| xs[a] == xs[b] && ys[a] == ys[b]);
    // discordant pairs = strict inversions of y in (x, y) order; merge sort counts and sorts them
    let mut buffer = vec![0.0; n];
    let discordant = inversions(&mut ys, &mut buffer);
    let y_ties = tied_pairs(&ys, |a, b| ys[a] == ys[b]);

    let total = (n as u128 * (n as u128 - 1)) / 2;
    if total == x_ties || total == y_ties {
        return Err(MetricError::Constant);
    }
    let con_minus_dis = total as f64 - x_ties as f64 - y_ties as f64 + xy_ties as f64 - 2.0 * discordant as f64;
    let tau = con_minus_dis / (total as f64 - x_ties as f64).sqrt() / (total as f64 - y_ties as f64).sqrt();
    Ok(tau.clamp(-1.0, 1.0))
}

/// Pairs within runs of consecutive equal elements (by `same` on adjacent indices) of a sorted slice.
fn tied_pairs(sorted: &[f64], same: impl Fn(usize, usize) -> bool) -> u128 {
    let mut pairs = 0u128;
    let mut run = 1u128;
    for i in 1..sorted.len() {
        if same(i - 1, i) {
            run += 1;
        } else {
            pairs += run * (run - 1) / 2;
            run = 1;
        }
    }
    pairs + run * (run - 1) / 2
}

/// Sort `v` ascending and return the number of pairs i < j with v[i] > v[j].
fn inversions(v: &mut [f64], buffer: &mut [f64]) -> u128 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let (left, right) = v.split_at_mut(mid);
    let (buf_left, buf_right) = buffer.split_at_mut(mid);
    let mut count = inversions(left, buf_left) + inversions(right, buf_right);
    let (mut i, mut j, mut k) = (0, 0, 0);
    while i < left.len() && j < right.len() {
        if left[i] <= right[j] {
            buffer[k] = left[i];
            i += 1;
        } else {
            buffer[k] = right[j];
            count += (left.len() - i) as u128;
            j += 1;
        }
        k += 1;
    }
    while i < left.len() {
        buffer[k] = left[i];
        i += 1;
        k += 1;
    }
    while j < right.len() {
        buffer[k] = right[j];
        j += 1;
        k += 1;
    }
    v.copy_from_slice(&buffer[..n]);
    count
}
