//! Descriptions of object lists: "There is a large red circle, a small blue square and a small green
//! triangle." Every phrasing names each object as "a `size` `colour` `shape`", which `score::parse_mentions`
//! reads back exactly.

use crate::rng::SplitMix64;
use crate::scene::{Object, Scene};

/// The sentence frame around the list of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phrasing {
    /// "There is a ..., a ... and a ...."
    ThereIs,
    /// "I can see a ..., a ... and a ...."
    ICanSee,
    /// "The image shows a ..., a ..., and a ...." (serial comma)
    ImageShows,
    /// "Objects: a ...; a ...; a ...."
    List,
}

impl Phrasing {
    pub const ALL: [Phrasing; 4] = [Phrasing::ThereIs, Phrasing::ICanSee, Phrasing::ImageShows, Phrasing::List];
}

/// The sentence for an empty list, in every phrasing.
pub const NOTHING: &str = "There is nothing in the image.";

/// The canonical description: `Phrasing::ThereIs`, objects in the given order.
pub fn describe(objects: &[Object]) -> String {
    describe_with(objects, Phrasing::ThereIs)
}

/// The objects, in the given order, in `phrasing`.
pub fn describe_with(objects: &[Object], phrasing: Phrasing) -> String {
    if objects.is_empty() {
        return NOTHING.to_string();
    }
    let names: Vec<String> = objects.iter().map(|o| format!("a {}", o.full_name())).collect();
    let list = match phrasing {
        Phrasing::List => names.join("; "),
        Phrasing::ImageShows if names.len() > 2 => join_and(&names, ", and "),
        _ => join_and(&names, " and "),
    };
    match phrasing {
        Phrasing::ThereIs => format!("There is {list}."),
        Phrasing::ICanSee => format!("I can see {list}."),
        Phrasing::ImageShows => format!("The image shows {list}."),
        Phrasing::List => format!("Objects: {list}."),
    }
}

/// "x, y<last>z": all but the last joined by ", ", then `last` before the final name.
pub(crate) fn join_and(names: &[String], last: &str) -> String {
    match names.split_last() {
        None => String::new(),
        Some((only, [])) => only.clone(),
        Some((final_name, rest)) => format!("{}{last}{final_name}", rest.join(", ")),
    }
}

/// A seeded phrasing, with the objects in reading order ([`Object::reading_key`] for an image
/// `image_size` wide), invented ones among the real ones where their place is. A fixed order lets a
/// model describe by reading the image row by row; with the order drawn at random, supervised targets
/// were sets in any order and the tiny models learned to name fewer objects.
pub fn describe_varied(objects: &[Object], image_size: u32, rng: &mut SplitMix64) -> String {
    let phrasing = Phrasing::ALL[rng.below(Phrasing::ALL.len())];
    let mut ordered = objects.to_vec();
    ordered.sort_by_key(|o| o.reading_key(image_size));
    describe_with(&ordered, phrasing)
}

/// The canonical description of the scene without the objects at the indices in `omit`, with the
/// `hallucinate` objects appended (in that order).
pub fn describe_imperfect(scene: &Scene, omit: &[usize], hallucinate: &[Object]) -> String {
    let kept = scene.objects.iter().enumerate().filter(|(i, _)| !omit.contains(i)).map(|(_, o)| *o);
    let all: Vec<Object> = kept.chain(hallucinate.iter().copied()).collect();
    describe(&all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Colour, Shape, Size};

    fn obj(size: Size, colour: Colour, shape: Shape) -> Object {
        Object { shape, colour, size, x: 0, y: 0 }
    }

    #[test]
    fn phrasings_read_naturally() {
        let objects = [
            obj(Size::Large, Colour::Red, Shape::Circle),
            obj(Size::Small, Colour::Blue, Shape::Square),
            obj(Size::Small, Colour::Green, Shape::Triangle),
        ];
        assert_eq!(describe(&objects), "There is a large red circle, a small blue square and a small green triangle.");
        assert_eq!(
            describe_with(&objects, Phrasing::ImageShows),
            "The image shows a large red circle, a small blue square, and a small green triangle."
        );
        assert_eq!(
            describe_with(&objects, Phrasing::List),
            "Objects: a large red circle; a small blue square; a small green triangle."
        );
        assert_eq!(describe_with(&objects[..1], Phrasing::ICanSee), "I can see a large red circle.");
        assert_eq!(
            describe_with(&objects[..2], Phrasing::ImageShows),
            "The image shows a large red circle and a small blue square."
        );
        assert_eq!(describe(&[]), NOTHING);
    }
}
