//! The attributes an object has (shape, colour, size) and the words that name them.

use serde::{Deserialize, Serialize};

/// An object's outline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
    Cross,
}

/// An object's fill colour; the six are far apart in RGB (at least ~115 apart, see the test).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Colour {
    Red,
    Green,
    Blue,
    Yellow,
    Purple,
    White,
}

/// An object's size: small is about 1/6 of the image side, large about 1/3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Size {
    Small,
    Large,
}

impl Shape {
    pub const ALL: [Shape; 5] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Diamond, Shape::Cross];

    pub fn word(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Diamond => "diamond",
            Shape::Cross => "cross",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            Shape::Circle => "circles",
            Shape::Square => "squares",
            Shape::Triangle => "triangles",
            Shape::Diamond => "diamonds",
            Shape::Cross => "crosses",
        }
    }

    /// The shape a (lower-case) word names, singular or plural.
    pub fn from_word(word: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.word() == word || s.plural() == word)
    }
}

impl Colour {
    pub const ALL: [Colour; 6] =
        [Colour::Red, Colour::Green, Colour::Blue, Colour::Yellow, Colour::Purple, Colour::White];

    pub fn word(self) -> &'static str {
        match self {
            Colour::Red => "red",
            Colour::Green => "green",
            Colour::Blue => "blue",
            Colour::Yellow => "yellow",
            Colour::Purple => "purple",
            Colour::White => "white",
        }
    }

    pub fn rgb(self) -> [u8; 3] {
        match self {
            Colour::Red => [230, 30, 30],
            Colour::Green => [30, 200, 50],
            Colour::Blue => [40, 80, 250],
            Colour::Yellow => [245, 225, 30],
            Colour::Purple => [170, 40, 210],
            Colour::White => [245, 245, 245],
        }
    }

    pub fn from_word(word: &str) -> Option<Colour> {
        Colour::ALL.into_iter().find(|c| c.word() == word)
    }
}

impl Size {
    pub const ALL: [Size; 2] = [Size::Small, Size::Large];

    /// The other size: a resized object's.
    pub fn other(self) -> Size {
        match self {
            Size::Small => Size::Large,
            Size::Large => Size::Small,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Large => "large",
        }
    }

    /// The size a word names; "big" and "tiny" are accepted as synonyms.
    pub fn from_word(word: &str) -> Option<Size> {
        match word {
            "small" | "tiny" | "little" => Some(Size::Small),
            "large" | "big" => Some(Size::Large),
            _ => None,
        }
    }

    /// Half the side of the object's bounding box in pixels (the box spans `centre ± half`), for an
    /// image `image_size` wide: the box of a small object fits one cell of the placement grid (a sixth of
    /// the side), a large one's fits 2 x 2 cells, never under 3 pixels across. At 48 pixels the boxes
    /// are 7 and 15 pixels across.
    pub fn half_extent(self, image_size: u32) -> u32 {
        let cells = match self {
            Size::Small => 1,
            Size::Large => 2,
        };
        ((cells * cell_side(image_size)).saturating_sub(1) / 2).max(1)
    }
}

/// Cells across (and down) the placement grid.
pub const CELLS_ACROSS: u32 = 6;

/// The side of one cell of the placement grid: a sixth of the image, the vision tower's patch at 48 pixels.
pub fn cell_side(image_size: u32) -> u32 {
    image_size / CELLS_ACROSS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_are_far_apart() {
        for (i, a) in Colour::ALL.iter().enumerate() {
            for b in &Colour::ALL[i + 1..] {
                let d: f64 = a.rgb().iter().zip(b.rgb()).map(|(x, y)| (f64::from(*x) - f64::from(y)).powi(2)).sum();
                assert!(d.sqrt() > 110.0, "{a:?} and {b:?} are only {} apart", d.sqrt());
            }
        }
    }

    #[test]
    fn words_round_trip() {
        for s in Shape::ALL {
            assert_eq!(Shape::from_word(s.word()), Some(s));
            assert_eq!(Shape::from_word(s.plural()), Some(s));
        }
        for c in Colour::ALL {
            assert_eq!(Colour::from_word(c.word()), Some(c));
        }
        for z in Size::ALL {
            assert_eq!(Size::from_word(z.word()), Some(z));
        }
        assert_eq!(Shape::from_word("square!"), None);
    }

    #[test]
    fn sizes_at_48_pixels() {
        assert_eq!(Size::Small.half_extent(48), 3);
        assert_eq!(Size::Large.half_extent(48), 7);
        for size in [24, 48, 64, 96] {
            assert!(2 * Size::Small.half_extent(size) < cell_side(size), "{size}");
            assert!(2 * Size::Large.half_extent(size) < 2 * cell_side(size), "{size}");
        }
    }
}
