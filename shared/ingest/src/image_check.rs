//! Image checks done once at import: format sniffing, byte and pixel limits, a full decode under
//! `image::Limits` (so decompression bombs and truncated or corrupt files are rejected, not stored).

use artifacts::Digest;
use image::{ImageFormat, ImageReader, Limits};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// Limits an image must meet to be imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImageLimits {
    /// Encoded size.
    pub max_bytes: u64,
    pub max_width: u32,
    pub max_height: u32,
    /// width x height.
    pub max_pixels: u64,
    /// The most memory the decoder may allocate.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 32 * 1024 * 1024,
            max_width: 16_384,
            max_height: 16_384,
            max_pixels: 64 * 1024 * 1024,
            max_alloc: 512 * 1024 * 1024,
        }
    }
}

/// An image that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    pub digest: Digest,
    pub width: u32,
    pub height: u32,
    pub format: &'static str,
}

/// Why an image was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum ImageProblem {
    #[error("empty image data")]
    Empty,
    #[error("{size} bytes is over the limit of {max}")]
    TooManyBytes { size: u64, max: u64 },
    #[error("not an image in a supported format (png, jpeg, webp, gif, bmp)")]
    UnknownFormat,
    #[error("{width}x{height} is over the limit ({max_width}x{max_height}, {max_pixels} pixels)")]
    TooLarge { width: u32, height: u32, max_width: u32, max_height: u32, max_pixels: u64 },
    #[error("{format} image does not decode (corrupt or truncated): {error}")]
    Undecodable { format: String, error: String },
}

fn format_name(format: ImageFormat) -> Option<&'static str> {
    match format {
        ImageFormat::Png => Some("png"),
        ImageFormat::Jpeg => Some("jpeg"),
        ImageFormat::WebP => Some("webp"),
        ImageFormat::Gif => Some("gif"),
        ImageFormat::Bmp => Some("bmp"),
        _ => None,
    }
}

/// Checks encoded image bytes; the digest is of the bytes exactly as given (they are stored unchanged).
pub fn check_image(bytes: &[u8], limits: &ImageLimits) -> Result<CheckedImage, ImageProblem> {
    if bytes.is_empty() {
        return Err(ImageProblem::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_bytes {
        return Err(ImageProblem::TooManyBytes { size, max: limits.max_bytes });
    }
    let format = image::guess_format(bytes).ok().and_then(|f| format_name(f).map(|name| (f, name)));
    let Some((format, name)) = format else {
        return Err(ImageProblem::UnknownFormat);
    };
    let undecodable =
        |error: image::ImageError| ImageProblem::Undecodable { format: name.to_owned(), error: error.to_string() };
    let reader = |decoder_limits: Limits| {
        let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
        reader.limits(decoder_limits);
        reader
    };
    let mut decoder_limits = Limits::default();
    decoder_limits.max_image_width = Some(limits.max_width);
    decoder_limits.max_image_height = Some(limits.max_height);
    decoder_limits.max_alloc = Some(limits.max_alloc);
    let too_large = |width: u32, height: u32| ImageProblem::TooLarge {
        width,
        height,
        max_width: limits.max_width,
        max_height: limits.max_height,
        max_pixels: limits.max_pixels,
    };
    // The header alone first (reading it allocates nothing for pixels, so it needs no limits and reports
    // the real size): a decompression bomb is refused before anything is allocated for it.
    let (width, height) = match reader(Limits::no_limits()).into_dimensions() {
        Ok(dimensions) => dimensions,
        Err(error) => return Err(undecodable(error)),
    };
    if width > limits.max_width
        || height > limits.max_height
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(too_large(width, height));
    }
    match reader(decoder_limits).decode() {
        Ok(_) => {}
        Err(image::ImageError::Limits(_)) => return Err(too_large(width, height)),
        Err(error) => return Err(undecodable(error)),
    }
    if format == ImageFormat::Jpeg && !jpeg_has_end_marker(bytes) {
        return Err(ImageProblem::Undecodable {
            format: name.to_owned(),
            error: "no end-of-image marker: truncated".into(),
        });
    }
    Ok(CheckedImage { digest: Digest::of(bytes), width, height, format: name })
}

/// JPEG decoders fill a truncated scan with grey instead of failing, so truncation is checked directly:
/// the end-of-image marker must be present, allowing some padding after it.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(4096)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}
