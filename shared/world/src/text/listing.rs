//! Short answers that read the image out before they answer, so that no lookup by content over the image
//! is needed.
//!
//! "What colour is the cross?" needs the model to find the object a question names among the image tokens.
//! The world's models have not learned that lookup from any data (README, sessions 11-12); they do learn to
//! read the objects out of the image in reading order, and, after `scripts/world/lookup_probe.py`'s recall
//! stage, to look a shape up in text. A listed answer chains the two: the scene shape first in reading
//! order, then the listing's entries of the asked shape, then the answer:
//! - colour, "What colour is the cross?": "square red, cross blue. cross blue." (the entry ends in the
//!   answer, so nothing follows it);
//! - presence, "Is there a red cross?": "square red, cross blue. cross blue. no.";
//! - count, "How many squares are there?": "square white, square red. square white, square red. two.";
//!   a shape the image does not have is looked up as "cross none".
//!
//! Relations are not listed here: their listing with grid cells ([`super::positions`]) has not yet taught
//! relations (README, sessions 17-18), so it is written only where asked for (`relation_listed_answer`,
//! `world sft-data --listed-relations`).
//!
//! The format is `scripts/world/image_lookup_probe.py --listed`'s, word for word, so that its figures
//! (README, "Session 13") carry over to data written here.

use crate::scene::{Object, Scene, Shape};
use crate::tasks::{Family, Item, Truth};

/// The scene's objects in reading order (generated scenes already are; a scene read back from data may not be).
pub(crate) fn in_reading_order(scene: &Scene) -> Vec<&Object> {
    let mut objects: Vec<&Object> = scene.objects.iter().collect();
    objects.sort_by_key(|o| o.reading_key(scene.width));
    objects
}

/// One object as the listing names it, shape first: "cross blue".
fn entry(object: &Object) -> String {
    format!("{} {}", object.shape.word(), object.colour.word())
}

/// One object as the listing names it, then its size: "cross blue large". The critic's description
/// judgment reads the image out and keeps each lookup step's objects this way (`critic_data`), shape first
/// as the listed answers look a shape up.
pub(crate) fn keyed_name(object: &Object) -> String {
    format!("{} {}", entry(object), object.size.word())
}

/// The scene read out shape first, in reading order: "square red, cross blue.".
pub fn listing(scene: &Scene) -> String {
    let entries: Vec<String> = in_reading_order(scene).into_iter().map(entry).collect();
    format!("{}.", entries.join(", "))
}

/// The shape a colour, presence or count question names ("the cross", "a red cross", "how many crosses").
fn asked_shape(question: &str) -> Option<Shape> {
    question.split(|c: char| !c.is_ascii_alphabetic()).find_map(Shape::from_word)
}

/// The listed answer to `item` (module documentation), or `None` for descriptions, relations and a
/// question that names no shape.
pub fn listed_answer(item: &Item) -> Option<String> {
    listed_with(&item.question, &item.truth, item.answer()?)
}

/// The listed answer to `question` about `truth`'s scene that ends in `answer`, right or not: the listing
/// and the looked-up entries are the scene's, and a colour question's entry of the asked shape carries
/// `answer` as its colour. A sampled wrong response is written with it, and `listed_answer` with the
/// ground truth's answer.
pub fn listed_with(question: &str, truth: &Truth, answer: &str) -> Option<String> {
    let (listing, entries) = listing_and_lookup(question, truth)?;
    if truth.family == Family::Colour {
        // a colour question names a shape the scene has once: its one entry, coloured `answer`
        return Some(format!("{listing} {} {answer}.", asked_shape(question)?.word()));
    }
    Some(format!("{listing} {entries}. {answer}."))
}

/// The scene's listing and the looked-up entries of the shape `question` asks about ("square white,
/// square red", or "circle none"), for colour, presence and count questions; `None` otherwise.
pub fn listing_and_lookup(question: &str, truth: &Truth) -> Option<(String, String)> {
    if !matches!(truth.family, Family::Colour | Family::Presence | Family::Count) {
        return None;
    }
    let shape = asked_shape(question)?;
    let scene = &truth.scene;
    let mut entries: Vec<String> =
        in_reading_order(scene).into_iter().filter(|o| o.shape == shape).map(entry).collect();
    if entries.is_empty() {
        entries.push(format!("{} none", shape.word()));
    }
    Some((listing(scene), entries.join(", ")))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::WorldConfig;
    use crate::scene::{Colour, Size};

    fn object(shape: Shape, colour: Colour, x: u32, y: u32) -> Object {
        Object { shape, colour, size: Size::Small, x, y }
    }

    pub(in crate::text) fn item(question: &str, family: Family, answer: &str, objects: Vec<Object>) -> Item {
        let scene = Scene { width: 48, height: 48, objects };
        let truth = Truth { family, answer: Some(answer.to_string()), scene, seed: 0 };
        Item { id: "t".to_string(), question: question.to_string(), truth }
    }

    /// The scene of image_lookup_probe.py's third held-out item: a cross in the top row, two squares below.
    pub(in crate::text) fn scene() -> Vec<Object> {
        vec![
            object(Shape::Square, Colour::Red, 19, 43),
            object(Shape::Cross, Colour::Blue, 43, 3),
            object(Shape::Square, Colour::White, 11, 35),
        ]
    }

    #[test]
    fn listed_answers_read_the_scene_out_then_look_the_shape_up() {
        let colour = item("What colour is the cross?", Family::Colour, "blue", scene());
        assert_eq!(listed_answer(&colour).as_deref(), Some("cross blue, square white, square red. cross blue."));
        let present = item("Is there a red square?", Family::Presence, "yes", scene());
        let listed = "cross blue, square white, square red. square white, square red. yes.";
        assert_eq!(listed_answer(&present).as_deref(), Some(listed));
        let absent = item("Is there a green circle?", Family::Presence, "no", scene());
        assert_eq!(listed_answer(&absent).as_deref(), Some("cross blue, square white, square red. circle none. no."));
        let count = item("How many crosses are there?", Family::Count, "one", scene());
        assert_eq!(listed_answer(&count).as_deref(), Some("cross blue, square white, square red. cross blue. one."));
        let relation = item("Is the red square left of the blue cross?", Family::Relation, "yes", scene());
        assert_eq!(listed_answer(&relation), None, "relations are listed only on request (positions.rs)");
    }

    #[test]
    fn a_wrong_listed_answer_keeps_the_scene_and_ends_in_the_wrong_word() {
        let colour = item("What colour is the cross?", Family::Colour, "blue", scene());
        let wrong = listed_with(&colour.question, &colour.truth, "green");
        assert_eq!(wrong.as_deref(), Some("cross blue, square white, square red. cross green."));
        let count = item("How many squares are there?", Family::Count, "two", scene());
        let wrong = listed_with(&count.question, &count.truth, "three");
        assert_eq!(wrong.as_deref(), Some("cross blue, square white, square red. square white, square red. three."));
        let lookup = listing_and_lookup(&count.question, &count.truth);
        assert_eq!(lookup, Some(("cross blue, square white, square red.".into(), "square white, square red".into())));
    }

    #[test]
    fn every_generated_short_question_gets_a_listed_answer_ending_in_its_answer() {
        let config = WorldConfig::default();
        for seed in 0..200 {
            let item = Item::generate(seed, None, &config).expect("an item");
            let listed = listed_answer(&item);
            match item.family() {
                Family::Colour | Family::Presence | Family::Count => {
                    let listed = listed.unwrap_or_else(|| panic!("no listed answer to {:?}", item.question));
                    let answer = item.answer().expect("a short answer");
                    assert!(listed.starts_with(&listing(item.scene())), "{listed}");
                    assert!(listed.ends_with(&format!(" {answer}.")), "{listed} / {answer}");
                }
                Family::Relation | Family::Describe => assert_eq!(listed, None, "{}", item.question),
            }
        }
    }
}
