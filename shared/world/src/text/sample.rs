//! Imperfect responses, drawn from a seeded generator: a stand-in for a middling policy, and the raw
//! material of critic training pairs.

use super::describe::describe_varied;
use super::listing::listed_with;
use crate::rng::SplitMix64;
use crate::scene::{Colour, Object, Scene, Shape, Size};
use crate::tasks::{Family, Item, number_word};

/// Most hallucinated objects one sampled description adds.
const MAX_HALLUCINATIONS: usize = 2;

/// A response to `item` of roughly the given `quality` (clamped to `[0, 1]`; 1 is always right).
///
/// Short questions: the right answer with probability `quality`, otherwise a wrong one of the same kind
/// (`wrong_answer`), as "red", "Red.", "Red, I think." (the answer is the first word) or the listed answer
/// that ends in it (`listed_with`: the scene read out, the asked shape looked up, then the answer; a
/// relation is never listed here).
/// Descriptions: each true object is left out with probability `0.7 (1 - quality)` and given the wrong
/// size with probability `0.2 (1 - quality)`; up to two hallucinated objects are added, each with
/// probability `0.6 (1 - quality)` (`hallucination`: never a true (colour, shape)); the result is phrased
/// by `describe_varied`.
pub fn sample_response(item: &Item, rng: &mut SplitMix64, quality: f64) -> String {
    let miss = 1.0 - quality.clamp(0.0, 1.0);
    let scene = item.scene();
    match item.answer() {
        Some(answer) => {
            let word =
                if rng.chance(miss) { wrong_answer(item.family(), answer, scene, rng) } else { answer.to_string() };
            let [bare, sentence, hedged] = short_phrasings(&word);
            match rng.below(4) {
                0 => bare,
                1 => sentence,
                2 => hedged,
                // a policy trained on listed answers writes them
                _ => listed_with(&item.question, &item.truth, &word).unwrap_or(sentence),
            }
        }
        None => {
            let mut objects = Vec::new();
            for o in &scene.objects {
                if rng.chance(0.7 * miss) {
                    continue;
                }
                let mut o = *o;
                if rng.chance(0.2 * miss) {
                    o.size = o.size.other();
                }
                objects.push(o);
            }
            let mut invented: Vec<Object> = Vec::new();
            for _ in 0..MAX_HALLUCINATIONS {
                if rng.chance(0.6 * miss) {
                    let taken: Vec<Object> = scene.objects.iter().chain(&invented).copied().collect();
                    if let Some(h) = hallucination(&taken, scene.width, rng) {
                        invented.push(h);
                    }
                }
            }
            objects.extend(invented);
            describe_varied(&objects, scene.width, rng)
        }
    }
}

/// A description of `item`'s scene with one object (chosen at random) given another shape, not one that
/// object's colour already has in the scene, and half the time the other size: the error a policy that
/// reads colours but not shapes makes, where only the image tells the right description from this one.
/// Phrased by `describe_varied`; the scene's own description when no other shape is free.
pub fn shape_swapped(item: &Item, rng: &mut SplitMix64) -> String {
    let scene = item.scene();
    let mut objects = scene.objects.clone();
    if let Some(index) = (!objects.is_empty()).then(|| rng.below(objects.len())) {
        let o = objects[index];
        let free: Vec<Shape> = Shape::ALL
            .iter()
            .copied()
            .filter(|s| !scene.objects.iter().any(|t| t.colour == o.colour && t.shape == *s))
            .collect();
        if let Some(shape) = rng.choose(&free) {
            objects[index].shape = *shape;
            if rng.chance(0.5) {
                objects[index].size = o.size.other();
            }
        }
    }
    describe_varied(&objects, scene.width, rng)
}

/// A wrong one-word answer for a short family: the other of yes/no, another colour, another count.
pub fn wrong_answer(family: Family, answer: &str, scene: &Scene, rng: &mut SplitMix64) -> String {
    match answer {
        "yes" => return "no".into(),
        "no" => return "yes".into(),
        _ => {}
    }
    let options: Vec<String> = match family {
        Family::Colour => Colour::ALL.iter().map(|c| c.word().to_string()).collect(),
        Family::Count => (0..=scene.objects.len().max(3) + 1).map(number_word).collect(),
        _ => vec!["yes".into(), "no".into()],
    };
    let wrong: Vec<&String> = options.iter().filter(|o| o.as_str() != answer).collect();
    rng.choose(&wrong).map_or_else(|| "no".to_string(), |w| (*w).clone())
}

/// An object whose (colour, shape) is none of `taken`'s, at a random place in an image `image_size`
/// wide; half the time a near miss (the shape of a taken object in another colour). `None` when every
/// kind is taken.
pub fn hallucination(taken: &[Object], image_size: u32, rng: &mut SplitMix64) -> Option<Object> {
    let free = |c: Colour, s: Shape| !taken.iter().any(|o| o.colour == c && o.shape == s);
    let all: Vec<(Colour, Shape)> = Colour::ALL
        .iter()
        .flat_map(|c| Shape::ALL.iter().map(move |s| (*c, *s)))
        .filter(|(c, s)| free(*c, *s))
        .collect();
    let near: Vec<(Colour, Shape)> = all.iter().copied().filter(|(_, s)| taken.iter().any(|o| o.shape == *s)).collect();
    let (colour, shape) = if !near.is_empty() && rng.chance(0.5) { *rng.choose(&near)? } else { *rng.choose(&all)? };
    let size = if rng.chance(0.5) { Size::Large } else { Size::Small };
    let x = rng.range(0, image_size.saturating_sub(1));
    let y = rng.range(0, image_size.saturating_sub(1));
    Some(Object { shape, colour, size, x, y })
}

/// The three ways a sampled short response gives its answer word: "red", "Red." and "Red, I think." (the
/// tokenizer's corpus has them too, so a capitalised answer is one token as the bare one is).
pub fn short_phrasings(word: &str) -> [String; 3] {
    let capital = capitalise(word);
    [word.to_string(), format!("{capital}."), format!("{capital}, I think.")]
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| first.to_uppercase().chain(chars).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{WorldConfig, parse_mentions, score_description};

    #[test]
    fn a_shape_swapped_description_keeps_the_colour_and_misses_the_object() -> crate::Result<()> {
        let config = WorldConfig { max_objects: 1, ..WorldConfig::default() };
        let mut rng = SplitMix64::new(9);
        for seed in 0..50 {
            let item = Item::generate(seed, Some(Family::Describe), &config)?;
            let text = shape_swapped(&item, &mut rng);
            let truth = item.scene().objects[0];
            let mentions = parse_mentions(&text);
            assert_eq!(mentions.len(), 1, "{text}");
            assert_eq!(mentions[0].colour, Some(truth.colour), "{text}");
            assert_ne!(mentions[0].shape, truth.shape, "{text}");
            assert_eq!(score_description(&text, &item.scene().objects).f1, 0.0, "{text}");
        }
        Ok(())
    }
}
