//! The `<image>` token's expansion, as transformers' `LlavaOnevisionProcessor` does it before tokenising:
//! each `<image>` in the prompt becomes as many `<image>` tokens as the image has features, computed from
//! the image's size alone (the vision tower does not run). A prompt with one image gets the anyres count
//! (base tile, unpadded grid, a newline per grid row, downscaled beyond `anyres_max_N`); a prompt with
//! several images gets only the base tile of each plus one newline, as the processor tiles none of them.
//! A `<video>` becomes its frames' pooled features plus one newline.

use super::anyres::select_best_resolution;
use super::config::LlavaOnevisionConfig;
use crate::error::{ModelError, Result};

/// The processor's placeholder text for an image.
pub const IMAGE_TOKEN: &str = "<image>";
/// The processor's placeholder text for a video.
pub const VIDEO_TOKEN: &str = "<video>";

/// How many tokens a video of `frames` frames takes: each frame's grid pooled 2x2 (rounding up), then
/// one newline.
pub fn video_token_count(config: &LlavaOnevisionConfig, frames: i64) -> i64 {
    let pooled = (config.vision.image_size / config.vision.patch_size + 1) / 2;
    frames * pooled * pooled + 1
}

/// How many tokens an image of `size` (height, width) takes: `_get_number_of_features` (one image in the
/// prompt) or the base tile plus a newline (`multi_image`).
pub fn image_token_count(config: &LlavaOnevisionConfig, size: [i64; 2], multi_image: bool) -> i64 {
    let tile = config.vision.image_size;
    let g = tile / config.vision.patch_size;
    let base = g * g;
    if multi_image {
        return base + 1;
    }
    let [oh, ow] = size;
    let [bh, bw] = select_best_resolution(size, &config.image_grid_pinpoints);
    let (mut ch, mut cw) = (g * (bh / tile), g * (bw / tile));
    let (h, w) = (oh as f64, ow as f64);
    if w / h > cw as f64 / ch as f64 {
        let new_height = round7(h * (cw as f64 / w)) as i64;
        ch -= (ch - new_height).div_euclid(2) * 2;
    } else {
        let new_width = round7(w * (ch as f64 / h)) as i64;
        cw -= (cw - new_width).div_euclid(2) * 2;
    }
    let (mut unpadded, mut newlines) = (ch * cw, ch);
    let ratio = ((ch * cw) as f64 / (config.max_num_patches * g * g) as f64).sqrt();
    if ratio > 1.1 {
        let (rh, rw) = ((ch as f64 / ratio).floor() as i64, (cw as f64 / ratio).floor() as i64);
        unpadded = rh * rw;
        newlines = rh;
    }
    base + unpadded + newlines
}

/// Python's `int(round(x, 7))` for the non-negative values it is used on.
fn round7(x: f64) -> f64 {
    ((x * 1e7).round() / 1e7).trunc()
}

/// Replaces the `n`-th `<image>` of `text` with `counts[n]` copies of itself. The number of `<image>`
/// placeholders must equal the number of images.
pub fn expand_image_tokens(text: &str, counts: &[i64]) -> Result<String> {
    expand(text, IMAGE_TOKEN, "image", counts)
}

/// `expand_image_tokens` for `<video>` placeholders and videos.
pub fn expand_video_tokens(text: &str, counts: &[i64]) -> Result<String> {
    expand(text, VIDEO_TOKEN, "video", counts)
}

fn expand(text: &str, placeholder: &str, what: &str, counts: &[i64]) -> Result<String> {
    let found = text.matches(placeholder).count();
    if found != counts.len() {
        return Err(ModelError::Input(format!(
            "the prompt has {found} {placeholder} placeholder(s) for {} {what}(s)",
            counts.len()
        )));
    }
    let extra: i64 = counts.iter().map(|c| (c - 1).max(0)).sum();
    let mut out = String::with_capacity(text.len() + placeholder.len() * extra as usize);
    let mut parts = text.split(placeholder);
    out.push_str(parts.next().unwrap_or_default());
    for (part, &count) in parts.zip(counts) {
        for _ in 0..count {
            out.push_str(placeholder);
        }
        out.push_str(part);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_replaces_each_placeholder_in_order() {
        let got = expand_image_tokens("a<image>b<image>c", &[2, 3]).expect("two placeholders, two images");
        assert_eq!(got, "a<image><image>b<image><image><image>c");
        let err = expand_image_tokens("a<image>b", &[2, 3]).expect_err("one placeholder, two images");
        assert!(err.to_string().contains("1 <image> placeholder(s) for 2 image(s)"), "{err}");
        assert_eq!(expand_image_tokens("plain", &[]).expect("no images"), "plain");
    }

    #[test]
    fn round7_truncates_like_python() {
        assert_eq!(round7(11.999_999_99), 12.0);
        assert_eq!(round7(11.6), 11.0);
    }
}
