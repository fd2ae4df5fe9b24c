//! Drawing a scene from a seed: distinct (colour, shape) kinds placed without overlapping, on the grid's
//! cells or at any pixel.

use super::{CELLS_ACROSS, Colour, Object, Scene, Shape, Size, cell_side};
use crate::config::WorldConfig;
use crate::error::{Result, WorldError};
use crate::rng::{SplitMix64, derive};

/// Placements tried per object (per size) before the attempt is abandoned.
const TRIES: usize = 100;
/// Whole-scene attempts (each with its own stream) before giving up.
const ATTEMPTS: u64 = 64;

impl Scene {
    /// The scene of `seed`: between `min_objects` and `max_objects` objects with distinct (colour, shape).
    /// With `grid`, each bounding box lies inside its own cells (see [`WorldConfig::grid`]); without, each
    /// lies inside the image with `margin` pixels to spare, and `margin` empty pixels between any two boxes.
    /// Objects come in reading order. A pure function of `seed` and `config`.
    pub fn generate(seed: u64, config: &WorldConfig) -> Result<Scene> {
        config.validate()?;
        for attempt in 0..ATTEMPTS {
            let mut rng = SplitMix64::new(derive(seed, attempt));
            if let Some(mut objects) = place(&mut rng, config) {
                objects.sort_by_key(|o| o.reading_key(config.image_size));
                return Ok(Scene { width: config.image_size, height: config.image_size, objects });
            }
        }
        Err(WorldError::InvalidConfig(format!(
            "{} objects do not fit in {} pixels with margin {}",
            config.min_objects, config.image_size, config.margin
        )))
    }
}

fn place(rng: &mut SplitMix64, config: &WorldConfig) -> Option<Vec<Object>> {
    let n = rng.range(config.min_objects as u32, config.max_objects as u32) as usize;
    let mut kinds: Vec<(Colour, Shape)> =
        Colour::ALL.iter().flat_map(|c| Shape::ALL.iter().map(move |s| (*c, *s))).collect();
    rng.shuffle(&mut kinds);
    let mut objects = Vec::with_capacity(n);
    let mut taken = Cells::new(config.image_size);
    for &(colour, shape) in kinds.iter().take(n) {
        let first = if rng.chance(config.large_probability) { Size::Large } else { Size::Small };
        let sizes: &[Size] = if first == Size::Large { &[Size::Large, Size::Small] } else { &[Size::Small] };
        let placed = sizes.iter().find_map(|&size| {
            (0..TRIES).find_map(|_| {
                let object = Object { shape, colour, size, x: 0, y: 0 };
                if config.grid {
                    return taken.claim(rng, object);
                }
                let candidate = position(rng, config, object);
                objects.iter().all(|o| apart(o, &candidate, config)).then_some(candidate)
            })
        });
        objects.push(placed?);
    }
    Some(objects)
}

fn position(rng: &mut SplitMix64, config: &WorldConfig, mut object: Object) -> Object {
    let h = object.size.half_extent(config.image_size);
    let lo = h + config.margin;
    let hi = config.image_size.saturating_sub(1 + h + config.margin);
    object.x = rng.range(lo, hi);
    object.y = rng.range(lo, hi);
    object
}

/// The two bounding boxes are separated by more than `margin` pixels along some axis.
pub(crate) fn apart(a: &Object, b: &Object, config: &WorldConfig) -> bool {
    let reach = a.size.half_extent(config.image_size) + b.size.half_extent(config.image_size) + config.margin;
    a.x.abs_diff(b.x) > reach || a.y.abs_diff(b.y) > reach
}

/// Which cells of the placement grid hold an object.
struct Cells {
    image_size: u32,
    taken: Vec<bool>,
}

impl Cells {
    fn new(image_size: u32) -> Cells {
        Cells { image_size, taken: vec![false; (CELLS_ACROSS * CELLS_ACROSS) as usize] }
    }

    /// Places `object` in a random free block of cells (1 x 1 small, 2 x 2 large) and marks the block, or
    /// `None` when the block drawn is not free. The box starts at the block's top-left pixel.
    fn claim(&mut self, rng: &mut SplitMix64, mut object: Object) -> Option<Object> {
        let span = match object.size {
            Size::Small => 1,
            Size::Large => 2,
        };
        let (cx, cy) = (rng.range(0, CELLS_ACROSS - span), rng.range(0, CELLS_ACROSS - span));
        let block: Vec<usize> =
            (cy..cy + span).flat_map(|y| (cx..cx + span).map(move |x| (y * CELLS_ACROSS + x) as usize)).collect();
        if block.iter().any(|&c| self.taken[c]) {
            return None;
        }
        block.iter().for_each(|&c| self.taken[c] = true);
        let (side, h) = (cell_side(self.image_size), object.size.half_extent(self.image_size));
        object.x = cx * side + h;
        object.y = cy * side + h;
        Some(object)
    }
}
