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
    /// The checkpoint's image processor settings: `preprocessor_config.json` (the Hub's LLaVA-OneVision
    /// checkpoints), else the `image_processor` section of `processor_config.json` (what transformers 5
    /// saves), else the defaults.
    pub fn from_dir(dir: &Path) -> Result<Self> {
        let path = dir.join("preprocessor_config.json");
        if path.is_file() {
            return read_json(&path);
        }
        let path = dir.join("processor_config.json");
        if path.is_file() {
            let processor: serde_json::Value = read_json(&path)?;
            if let Some(section) = processor.get("image_processor") {
                return serde_json::from_value(section.clone()).map_err(|e| ModelError::Config {
                    path: path.clone(),
                    field: "image_processor",
                    message: e.to_string(),
                });
            }
        }
        Ok(Self::default())
    }
}

/// Images larger than this many pixels are refused before their pixels are decoded (a decompression bomb
/// declares a huge size in a small file); LLaVA-OneVision resizes everything to at most 2304x2304 anyway.
pub const MAX_IMAGE_PIXELS: u64 = 64 * 1024 * 1024;

/// A decoded image file: `[3, height, width]` uint8.
pub fn load_image(path: &Path) -> Result<Tensor> {
    let bytes =
        std::fs::read(path).map_err(|e| ModelError::Input(format!("{}: cannot read image: {e}", path.display())))?;
    decode_image(&bytes).map_err(|e| ModelError::Input(format!("{}: {e}", path.display())))
}

/// Decodes an encoded image (PNG, JPEG, WebP, …) into `[3, height, width]` uint8. Corrupt or truncated
/// data, an unknown format and an image over `MAX_IMAGE_PIXELS` are errors, never a panic.
pub fn decode_image(bytes: &[u8]) -> Result<Tensor> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ModelError::Input(format!("cannot read image: {e}")))?;
    if reader.format().is_none() {
        return Err(ModelError::Input("not an image in a known format".into()));
    }
    let (w, h) = reader.into_dimensions().map_err(|e| ModelError::Input(format!("cannot decode image header: {e}")))?;
    if u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS {
        return Err(ModelError::Input(format!("image of {w}x{h} pixels is over the limit of {MAX_IMAGE_PIXELS}")));
    }
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ModelError::Input(format!("cannot read image: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 4);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| ModelError::Input(format!("cannot decode image: {e}")))?.to_rgb8();
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
    Ok((normalize(&tiles, config)?, [h, w]))
}

/// Pixel values `[1, 3, tile, tile]` of one of several images of a prompt, which the processor does not
/// tile: the image padded to a square (centred, filled with the mean colour) and resized to one tile; and
/// the image's (height, width).
pub fn preprocess_base(image: &Tensor, tile: i64, config: &ImageProcessorConfig) -> Result<(Tensor, [i64; 2])> {
    let _guard = tch::no_grad_guard();
    let size = image.size();
    if size.len() != 3 || size[0] != 3 || image.kind() != Kind::Uint8 {
        return Err(ModelError::Input(format!("expected a uint8 [3, h, w] image, got {:?} {size:?}", image.kind())));
    }
    let (h, w) = (size[1], size[2]);
    let side = h.max(w);
    let square = if h == w {
        image.shallow_clone()
    } else {
        // `int(mean * 255)` per channel, as the processor's `pad_to_square` background
        let fill: Vec<u8> = config.image_mean.iter().map(|m| (m * 255.0) as u8).collect();
        let canvas =
            Tensor::f_from_slice(&fill)?.f_view([3, 1, 1])?.f_expand([3, side, side], false)?.f_contiguous()?;
        let (top, left) = ((side - h) / 2, (side - w) / 2);
        canvas.f_narrow(1, top, h)?.f_narrow(2, left, w)?.f_copy_(image)?;
        canvas
    };
    Ok((normalize(&[resize(&square, tile, tile)?], config)?, [h, w]))
}

/// Pixel values `[frames, 3, tile, tile]` of a video's frames (each `[3, h, w]` uint8, all one size), as
/// transformers' `LlavaOnevisionVideoProcessor` makes them: every frame resized to one tile, no tiling.
pub fn preprocess_video(frames: &[Tensor], tile: i64, config: &ImageProcessorConfig) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    let first = frames.first().ok_or_else(|| ModelError::Input("a video without frames".into()))?.size();
    let resized = frames
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let size = f.size();
            if size.len() != 3 || size[0] != 3 || f.kind() != Kind::Uint8 || size != first {
                return Err(ModelError::Input(format!(
                    "video frame {i}: expected uint8 {first:?} like the first frame, got {:?} {size:?}",
                    f.kind()
                )));
            }
            resize(f, tile, tile)
        })
        .collect::<Result<Vec<_>>>()?;
    normalize(&resized, config)
}

/// Stacks uint8 tiles and applies transformers' fused rescale + normalise: (x - mean / factor) / (std /
/// factor), in float32 on the CPU.
fn normalize(tiles: &[Tensor], config: &ImageProcessorConfig) -> Result<Tensor> {
    let f = config.rescale_factor;
    let mean: Vec<f32> = config.image_mean.iter().map(|m| (m / f) as f32).collect();
    let std: Vec<f32> = config.image_std.iter().map(|s| (s / f) as f32).collect();
    let mean = Tensor::f_from_slice(&mean)?.f_view([1, 3, 1, 1])?;
    let std = Tensor::f_from_slice(&std)?.f_view([1, 3, 1, 1])?;
    let stacked = Tensor::f_stack(tiles, 0)?.f_to_kind(Kind::Float)?;
    Ok(stacked.f_sub(&mean)?.f_div(&std)?.f_to_device(Device::Cpu)?)
}
