//! Drawing a scene: filled shapes on a fixed dark background, and PNG encoding.

use image::{ImageEncoder, Rgb, RgbImage};

use crate::error::Result;
use crate::scene::{Object, Scene, Shape};

/// The background colour, darker than every object colour.
pub const BACKGROUND: [u8; 3] = [20, 20, 28];

/// The scene as an RGB image; objects are drawn in order, each within its bounding box.
pub fn render(scene: &Scene) -> RgbImage {
    let mut img = RgbImage::from_pixel(scene.width, scene.height, Rgb(BACKGROUND));
    let size = scene.width.min(scene.height);
    for object in &scene.objects {
        let (left, top, right, bottom) = object.bounds(size);
        for py in top..=bottom.min(scene.height.saturating_sub(1)) {
            for px in left..=right.min(scene.width.saturating_sub(1)) {
                if covers(object, size, px, py) {
                    img.put_pixel(px, py, Rgb(object.colour.rgb()));
                }
            }
        }
    }
    img
}

/// Whether pixel `(px, py)` belongs to the filled shape. Every shape covers its centre pixel.
pub fn covers(object: &Object, image_size: u32, px: u32, py: u32) -> bool {
    let h = i64::from(object.size.half_extent(image_size));
    let dx = i64::from(px) - i64::from(object.x);
    let dy = i64::from(py) - i64::from(object.y);
    if dx.abs() > h || dy.abs() > h {
        return false;
    }
    match object.shape {
        Shape::Square => true,
        // radius² = h² + h/2: round at 8-16 px, without single-pixel nubs on the axes
        Shape::Circle => 2 * (dx * dx + dy * dy) <= 2 * h * h + h,
        // apex at the top, base on the bottom row: half-width grows from 0 to h over the 2h+1 rows
        Shape::Triangle => 2 * dx.abs() <= dy + h,
        Shape::Diamond => dx.abs() + dy.abs() <= h,
        Shape::Cross => {
            let arm = (h / 3).max(1);
            dx.abs() <= arm || dy.abs() <= arm
        }
    }
}

/// The image as PNG bytes (deterministic: the same image gives the same bytes).
pub fn png_bytes(img: &RgbImage) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out).write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}
