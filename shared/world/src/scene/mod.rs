//! Scenes: a few coloured shapes on a square canvas, the ground truth every task is derived from.

mod generate;
mod relation;
mod vocab;

use serde::{Deserialize, Serialize};

pub use relation::{Relation, above, left_of};
pub use vocab::{CELLS_ACROSS, Colour, Shape, Size, cell_side};

/// One object: what it is and where its centre lies (pixels from the top-left corner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Object {
    pub shape: Shape,
    pub colour: Colour,
    pub size: Size,
    pub x: u32,
    pub y: u32,
}

/// A canvas and the objects on it, in drawing order (generated scenes: reading order, see
/// [`Object::reading_key`]). Generated scenes never hold two objects with the same (colour, shape), so "the
/// red circle" names exactly one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    pub objects: Vec<Object>,
}

impl Object {
    /// "red circle": the name that identifies the object within its scene.
    pub fn name(&self) -> String {
        format!("{} {}", self.colour.word(), self.shape.word())
    }

    /// "large red circle": the name with the size, as descriptions give it.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.size.word(), self.name())
    }

    /// Where the object comes in reading order: the grid row its box starts in, then its left edge. Scenes
    /// and descriptions list objects in this order, so a description reads the image row by row.
    pub fn reading_key(&self, image_size: u32) -> (u32, u32) {
        let (left, top, _, _) = self.bounds(image_size);
        (top / cell_side(image_size).max(1), left)
    }

    /// The inclusive pixel box `(left, top, right, bottom)` the object is drawn in, for an image
    /// `image_size` wide. Saturates at 0 on the left and top.
    pub fn bounds(&self, image_size: u32) -> (u32, u32, u32, u32) {
        let h = self.size.half_extent(image_size);
        (self.x.saturating_sub(h), self.y.saturating_sub(h), self.x + h, self.y + h)
    }
}

impl Scene {
    /// The object with this colour and shape, if any.
    pub fn find(&self, colour: Colour, shape: Shape) -> Option<&Object> {
        self.objects.iter().find(|o| o.colour == colour && o.shape == shape)
    }

    /// How many objects have this shape.
    pub fn count(&self, shape: Shape) -> usize {
        self.objects.iter().filter(|o| o.shape == shape).count()
    }
}
