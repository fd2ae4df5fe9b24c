//! The "anyres" geometry shared by the processor and the model (transformers' `select_best_resolution`,
//! `image_size_to_num_patches`, `get_anyres_image_grid_shape`, `unpad_image`).

/// The pinpoint (height, width) that keeps the most of an image of `size` (height, width), wasting the
/// least on ties; the first such pinpoint wins.
pub fn select_best_resolution(size: [i64; 2], pinpoints: &[[i64; 2]]) -> [i64; 2] {
    let [oh, ow] = size;
    let mut best = pinpoints.first().copied().unwrap_or(size);
    let (mut max_effective, mut min_wasted) = (0i64, i64::MAX);
    for &[h, w] in pinpoints {
        let scale = (w as f64 / ow as f64).min(h as f64 / oh as f64);
        let (dw, dh) = ((ow as f64 * scale) as i64, (oh as f64 * scale) as i64);
        let effective = (dw * dh).min(ow * oh);
        let wasted = w * h - effective;
        if effective > max_effective || (effective == max_effective && wasted < min_wasted) {
            max_effective = effective;
            min_wasted = wasted;
            best = [h, w];
        }
    }
    best
}

/// Tiles of the best resolution (rows, columns), each `tile` pixels square.
pub fn grid_shape(size: [i64; 2], pinpoints: &[[i64; 2]], tile: i64) -> [i64; 2] {
    let [h, w] = select_best_resolution(size, pinpoints);
    [h / tile, w / tile]
}

/// Number of tiles the processor produces: the grid's tiles (rounded up) plus the base image.
pub fn num_tiles(size: [i64; 2], pinpoints: &[[i64; 2]], tile: i64) -> i64 {
    let [h, w] = select_best_resolution(size, pinpoints);
    let ceil = |a: i64| (a + tile - 1) / tile;
    ceil(h) * ceil(w) + 1
}

/// Rows or columns to keep of a `[C, H, W]` feature map padded from an image of `size`: (start, len) of
/// the height, then of the width.
pub fn unpad_ranges(current: [i64; 2], size: [i64; 2]) -> ([i64; 2], [i64; 2]) {
    let [ch, cw] = current;
    let [oh, ow] = size;
    // Python: int(round(x, 7))
    let round7 = |x: f64| ((x * 1e7).round() / 1e7) as i64;
    if ow as f64 / oh as f64 > cw as f64 / ch as f64 {
        let new_h = round7(oh as f64 * (cw as f64 / ow as f64));
        let pad = (ch - new_h) / 2;
        ([pad, ch - 2 * pad], [0, cw])
    } else {
        let new_w = round7(ow as f64 * (ch as f64 / oh as f64));
        let pad = (cw - new_w) / 2;
        ([0, ch], [pad, cw - 2 * pad])
    }
}
