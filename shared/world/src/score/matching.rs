//! One-to-one matching of mentions to ground-truth objects.

use super::Mention;
use crate::scene::Object;

/// Whether `mention` can be `object`: same shape, a colour that is given and equal, and a size that is
/// either not given or equal. A mention without a colour never matches.
pub fn compatible(mention: &Mention, object: &Object) -> bool {
    mention.shape == object.shape
        && mention.colour == Some(object.colour)
        && mention.size.is_none_or(|s| s == object.size)
}

/// A maximum one-to-one matching (Kuhn's augmenting paths): for each mention, the index of the object it
/// is matched to, if any. With distinct (colour, shape) objects each mention has at most one candidate,
/// but duplicate truths (imported data) are handled too.
pub fn match_mentions(mentions: &[Mention], objects: &[Object]) -> Vec<Option<usize>> {
    let mut owner: Vec<Option<usize>> = vec![None; objects.len()];
    for m in 0..mentions.len() {
        let mut seen = vec![false; objects.len()];
        augment(m, mentions, objects, &mut owner, &mut seen);
    }
    let mut result = vec![None; mentions.len()];
    for (object, mention) in owner.iter().enumerate() {
        if let Some(m) = mention {
            result[*m] = Some(object);
        }
    }
    result
}

fn augment(m: usize, mentions: &[Mention], objects: &[Object], owner: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for (o, object) in objects.iter().enumerate() {
        if seen[o] || !compatible(&mentions[m], object) {
            continue;
        }
        seen[o] = true;
        let free = match owner[o] {
            None => true,
            Some(other) => augment(other, mentions, objects, owner, seen),
        };
        if free {
            owner[o] = Some(m);
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::{Colour, Shape, Size};

    #[test]
    fn unsized_mentions_give_way_to_sized_ones() {
        let o = |size| Object { shape: Shape::Circle, colour: Colour::Red, size, x: 0, y: 0 };
        let objects = [o(Size::Large), o(Size::Small)];
        let any = Mention { size: None, colour: Some(Colour::Red), shape: Shape::Circle };
        let large = Mention { size: Some(Size::Large), ..any };
        // greedy would give the large circle to the first mention and leave the second unmatched
        assert_eq!(match_mentions(&[any, large], &objects), vec![Some(1), Some(0)]);
        assert_eq!(match_mentions(&[large, large], &objects), vec![Some(0), None]);
        let colourless = Mention { colour: None, ..any };
        assert_eq!(match_mentions(&[colourless], &objects), vec![None]);
    }
}
