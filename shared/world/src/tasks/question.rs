//! Asking a question of a scene and computing its answer.

use super::Family;
use crate::config::WorldConfig;
use crate::rng::SplitMix64;
use crate::scene::{Colour, Object, Relation, Scene, Shape};

/// The prompt of the description family.
pub const DESCRIBE_PROMPT: &str = "Describe everything in the image.";

const NUMBER_WORDS: [&str; 10] = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

/// Counts are answered with words: "zero" ... "nine"; larger numbers as digits.
pub fn number_word(n: usize) -> String {
    NUMBER_WORDS.get(n).map_or_else(|| n.to_string(), |w| (*w).to_string())
}

fn yes_no(b: bool) -> Option<String> {
    Some(if b { "yes" } else { "no" }.to_string())
}

/// A question of `family` about `scene` and its answer (`None` for descriptions), or `None` when the
/// scene does not allow the family (no shape occurs once; no pair is clearly apart).
pub(crate) fn ask(
    family: Family,
    scene: &Scene,
    rng: &mut SplitMix64,
    config: &WorldConfig,
) -> Option<(String, Option<String>)> {
    match family {
        Family::Colour => {
            let single: Vec<&Object> = scene.objects.iter().filter(|o| scene.count(o.shape) == 1).collect();
            let o = rng.choose(&single)?;
            Some((format!("What colour is the {}?", o.shape.word()), Some(o.colour.word().to_string())))
        }
        Family::Count => {
            // mostly shapes that are present, sometimes any shape (so "zero" occurs)
            let shape = if rng.chance(0.75) { rng.choose(&scene.objects)?.shape } else { *rng.choose(&Shape::ALL)? };
            Some((format!("How many {} are there?", shape.plural()), Some(number_word(scene.count(shape)))))
        }
        Family::Presence => {
            let (colour, shape) = if rng.chance(0.5) {
                let o = rng.choose(&scene.objects)?;
                (o.colour, o.shape)
            } else {
                absent_kind(scene, rng)?
            };
            let answer = scene.find(colour, shape).is_some();
            Some((format!("Is there a {} {}?", colour.word(), shape.word()), yes_no(answer)))
        }
        Family::Relation => {
            let mut options = Vec::new();
            for a in &scene.objects {
                for b in &scene.objects {
                    if a == b {
                        continue;
                    }
                    for r in Relation::ALL {
                        if let Some(holds) = r.holds(a, b, config.relation_gap) {
                            options.push((a, b, r, holds));
                        }
                    }
                }
            }
            let (a, b, r, holds) = rng.choose(&options)?;
            Some((format!("Is the {} {} the {}?", a.name(), r.phrase(), b.name()), yes_no(*holds)))
        }
        Family::Describe => Some((DESCRIBE_PROMPT.to_string(), None)),
    }
}

/// A (colour, shape) not in the scene; half the time a near miss (a present shape in another colour, or a
/// present colour on another shape) so that "no" needs both attributes checked.
fn absent_kind(scene: &Scene, rng: &mut SplitMix64) -> Option<(Colour, Shape)> {
    let all: Vec<(Colour, Shape)> = Colour::ALL.iter().flat_map(|c| Shape::ALL.iter().map(move |s| (*c, *s))).collect();
    let absent: Vec<(Colour, Shape)> = all.into_iter().filter(|(c, s)| scene.find(*c, *s).is_none()).collect();
    let near: Vec<(Colour, Shape)> =
        absent.iter().copied().filter(|(c, s)| scene.objects.iter().any(|o| o.colour == *c || o.shape == *s)).collect();
    if !near.is_empty() && rng.chance(0.5) { rng.choose(&near).copied() } else { rng.choose(&absent).copied() }
}
