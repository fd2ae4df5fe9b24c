//! Spatial relations between two objects, from their centres, asked only when the gap is clear.

use super::Object;

/// "a is `relation` b".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    LeftOf,
    RightOf,
    Above,
    Below,
}

impl Relation {
    pub const ALL: [Relation; 4] = [Relation::LeftOf, Relation::RightOf, Relation::Above, Relation::Below];

    /// The words used in questions: "left of", "right of", "above", "below".
    pub fn phrase(self) -> &'static str {
        match self {
            Relation::LeftOf => "left of",
            Relation::RightOf => "right of",
            Relation::Above => "above",
            Relation::Below => "below",
        }
    }

    /// Whether `a` is in this relation to `b`: `Some(true)` or `Some(false)` when the centres differ by at
    /// least `gap` pixels along the relation's axis, `None` when they are too close to say.
    pub fn holds(self, a: &Object, b: &Object, gap: u32) -> Option<bool> {
        let (from, to) = match self {
            Relation::LeftOf | Relation::RightOf => (a.x, b.x),
            Relation::Above | Relation::Below => (a.y, b.y),
        };
        if from.abs_diff(to) < gap.max(1) {
            return None;
        }
        let a_first = from < to; // a further left, or higher up (y grows downwards)
        Some(match self {
            Relation::LeftOf | Relation::Above => a_first,
            Relation::RightOf | Relation::Below => !a_first,
        })
    }
}

/// `a` is left of `b` by at least `gap` pixels (`None`: too close to say).
pub fn left_of(a: &Object, b: &Object, gap: u32) -> Option<bool> {
    Relation::LeftOf.holds(a, b, gap)
}

/// `a` is above `b` by at least `gap` pixels (`None`: too close to say).
pub fn above(a: &Object, b: &Object, gap: u32) -> Option<bool> {
    Relation::Above.holds(a, b, gap)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Colour, Shape, Size};

    fn at(x: u32, y: u32) -> Object {
        Object { shape: Shape::Circle, colour: Colour::Red, size: Size::Small, x, y }
    }

    #[test]
    fn relations_need_a_clear_gap() {
        let (a, b) = (at(10, 30), at(30, 10));
        assert_eq!(left_of(&a, &b, 8), Some(true));
        assert_eq!(left_of(&b, &a, 8), Some(false));
        assert_eq!(Relation::RightOf.holds(&b, &a, 8), Some(true));
        assert_eq!(above(&b, &a, 8), Some(true));
        assert_eq!(Relation::Below.holds(&b, &a, 8), Some(false));
        assert_eq!(left_of(&a, &at(15, 0), 8), None);
        assert_eq!(above(&a, &at(0, 37), 8), None);
        assert_eq!(above(&a, &at(0, 38), 8), Some(true));
    }
}
