//! The world's knobs.

use serde::{Deserialize, Serialize};

use crate::error::{Result, WorldError};
use crate::scene::{Colour, Shape, Size};
use crate::tasks::Family;

/// How scenes are drawn and which questions are asked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WorldConfig {
    /// Width and height of the square image in pixels.
    pub image_size: u32,
    /// Fewest objects in a scene (at least 1).
    pub min_objects: usize,
    /// Most objects in a scene (at most 9, so counts stay one word, and at most colours × shapes).
    pub max_objects: usize,
    /// Place objects on a grid of [`CELLS_ACROSS`](crate::scene::CELLS_ACROSS) x `CELLS_ACROSS` cells: a
    /// small object inside one cell, a large one inside 2 x 2, no two sharing a cell. At 48 pixels the cells are the vision tower's 8-pixel
    /// patches, so one patch holds a small object whole and its shape is there to be seen. `false` places
    /// objects at any pixel, `margin` apart.
    pub grid: bool,
    /// Without `grid`: empty pixels kept between two objects' bounding boxes, and between a box and the
    /// image edge.
    pub margin: u32,
    /// Least distance in pixels between two centres along an axis before "left of" / "above" is asked.
    pub relation_gap: u32,
    /// Probability that an object is large.
    pub large_probability: f64,
    /// The families `Item::generate(seed, None, ..)` and `World::items` draw from, uniformly.
    pub families: Vec<Family>,
}

impl Default for WorldConfig {
    fn default() -> Self {
        WorldConfig {
            image_size: 48,
            min_objects: 1,
            max_objects: 4,
            grid: true,
            margin: 2,
            relation_gap: 8,
            large_probability: 0.5,
            families: Family::ALL.to_vec(),
        }
    }
}

impl WorldConfig {
    /// Checks the bounds documented on the fields.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(WorldError::InvalidConfig(m));
        let kinds = Colour::ALL.len() * Shape::ALL.len();
        if self.image_size < 16 {
            return bad(format!("image_size {} is below 16 pixels", self.image_size));
        }
        let large = Size::Large.half_extent(self.image_size);
        if self.grid && self.image_size < 24 {
            return bad(format!("image_size {} is below 24 pixels, too small for a grid", self.image_size));
        }
        if !self.grid && 2 * (large + self.margin) + 1 > self.image_size {
            return bad(format!(
                "a large object with margin {} does not fit in {} pixels",
                self.margin, self.image_size
            ));
        }
        if self.min_objects == 0 || self.min_objects > self.max_objects {
            return bad(format!("need 1 <= min_objects ({}) <= max_objects ({})", self.min_objects, self.max_objects));
        }
        if self.max_objects > 9 || self.max_objects > kinds {
            return bad(format!("max_objects {} is above 9", self.max_objects));
        }
        if !(0.0..=1.0).contains(&self.large_probability) {
            return bad(format!("large_probability {} is not in [0, 1]", self.large_probability));
        }
        if self.families.is_empty() {
            return bad("families is empty".into());
        }
        Ok(())
    }
}
