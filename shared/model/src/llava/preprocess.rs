//! LLaVA-OneVision image preprocessing, as transformers' `LlavaOnevisionImageProcessor` (torchvision
//! backend) does it for a single image: pick the best pinpoint resolution, resize the image into it keeping
//! the aspect ratio (bicubic, antialiased, on uint8), pad it centred with zeros, cut it into square tiles,
//! prepend the whole image resized to one tile, then rescale and normalise. Files are decoded with the
//! `image` crate; the resizing is libtorch's own uint8 bicubic-antialias kernel, the one torchvision calls,
//! so the pixels agree exactly.

use std::path::Path;

use serde::Deserialize;
use tch::{Device, Kind, Tensor};

use super::anyres::select_best_resolution;
use crate::error::{ModelError, Result, read_json};

/// Defaults: transformers' `LlavaOnevisionImageProcessor` (OpenAI CLIP mean and std, 1/255).
#[derive(Debug, Clone, Deserialize)]
pub struct ImageProcessorConfig {
    #[serde(default = "clip_mean")]
    pub image_mean: [f64; 3],
    #[serde(default = "clip_std")]
    pub image_std: [f64; 3],
    #[serde(default = "inv255")]
    pub rescale_factor: f64,
}

fn clip_mean() -> [f64; 3] {
    [0.48145466, 0.4578275, 0.40821073]
}
fn clip_std() -> [f64; 3] {
    [0.26862954, 0.26130258, 0.27577711]
}
fn inv255() -> f64 {
    1.0 / 255.0
}

impl Default for ImageProcessorConfig {
    fn default() -> Self {
        ImageProcessorConfig { image_mean: clip_mean(), image_std: clip_std(), rescale_factor: inv255() }
    }
}

impl ImageProcessorConfig {
    /// `preprocessor_config.json` of a checkpoint when present, else the defaults.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("preprocessor_config.json");
        if path.is_file() { read_json(&path) } else { Ok(Self::default()) }
    }
}

/// A decoded image: `[3, height, width]` uint8 (a channels-last view, as torchvision makes from an array).
pub fn load_image(path: &Path) -> Result<Tensor> {
    let img = image::open(path)
        .map_err(|e| ModelError::Input(format!("{}: cannot decode image: {e}", path.display())))?
        .to_rgb8();
    rgb_tensor(img.width() as i64, img.height() as i64, img.as_raw())
}

/// `[3, height, width]` uint8 from interleaved RGB bytes.
pub fn rgb_tensor(width: i64, height: i64, rgb: &[u8]) -> Result<Tensor> {
    if rgb.len() as i64 != width * height * 3 || width <= 0 || height <= 0 {
        return Err(ModelError::Input(format!("{} bytes are not a {width}x{height} RGB image", rgb.len())));
    }
    Ok(Tensor::f_from_data_size(rgb, &[height, width, 3], Kind::Uint8)?.f_permute([2, 0, 1])?)
}

/// torchvision's `resize(..., BICUBIC, antialias=True)` on a uint8 `[3, h, w]` image.
fn resize(image: &Tensor, height: i64, width: i64) -> Result<Tensor> {
    let size = image.size();
    if size[1] == height && size[2] == width {
        return Ok(image.shallow_clone());
    }
    let out = image.f_unsqueeze(0)?.f_internal_upsample_bicubic2d_aa([height, width], false, None, None)?;
    Ok(out.f_squeeze_dim(0)?)
}

/// Pixel values `[tiles, 3, tile, tile]` (float32) of a uint8 `[3, h, w]` image, and its (height, width).
pub fn preprocess(
    image: &Tensor,
    pinpoints: &[[i64; 2]],
    tile: i64,
    config: &ImageProcessorConfig,
) -> Result<(Tensor, [i64; 2])> {
    let _guard = tch::no_grad_guard();
    let size = image.size();
    if size.len() != 3 || size[0] != 3 || image.kind() != Kind::Uint8 {
        return Err(ModelError::Input(format!("expected a uint8 [3, h, w] image, got {:?} {size:?}", image.kind())));
    }
    let (h, w) = (size[1], size[2]);
    let [th, tw] = select_best_resolution([h, w], pinpoints);
    // get_patch_output_size: fit inside the target, keeping the aspect ratio
    let (sw, sh) = (tw as f64 / w as f64, th as f64 / h as f64);
    let (nh, nw) = if sw < sh {
        ((h as f64 * sw).ceil().min(th as f64) as i64, tw)
    } else {
        (th, (w as f64 * sh).ceil().min(tw as f64) as i64)
    };
    let resized = resize(image, nh, nw)?;
    let (left, top) = ((tw - nw) / 2, (th - nh) / 2);
    let padded = resized.f_constant_pad_nd([left, tw - nw - left, top, th - nh - top])?;
    let mut tiles = vec![resize(image, tile, tile)?];
    for i in (0..th).step_by(tile as usize) {
        for j in (0..tw).step_by(tile as usize) {
            let t = padded.f_narrow(1, i, tile.min(th - i))?.f_narrow(2, j, tile.min(tw - j))?;
            tiles.push(resize(&t, tile, tile)?);
        }
    }
    // transformers' fused rescale + normalise: (x - mean / factor) / (std / factor)
    let f = config.rescale_factor;
    let mean: Vec<f32> = config.image_mean.iter().map(|m| (m / f) as f32).collect();
    let std: Vec<f32> = config.image_std.iter().map(|s| (s / f) as f32).collect();
    let mean = Tensor::f_from_slice(&mean)?.f_view([1, 3, 1, 1])?;
    let std = Tensor::f_from_slice(&std)?.f_view([1, 3, 1, 1])?;
    let stacked = Tensor::f_stack(&tiles, 0)?.f_to_kind(Kind::Float)?;
    let pixels = stacked.f_sub(&mean)?.f_div(&std)?.f_to_device(Device::Cpu)?;
    Ok((pixels, [h, w]))
}
