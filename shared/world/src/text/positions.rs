//! Listed answers to relation questions: the scene read out with each object's grid cell, then the two
//! named objects' cells along the question's axis, then the answer.
//!
//! "Is the red square left of the blue cross?" on a scene with a blue cross in the top row and two
//! squares below it:
//! "cross blue row one column six, square white row five column two, square red row six column three.
//! square red column three, cross blue column six. yes."
//!
//! The world models answer relation questions at chance with one word (README, sessions 8-16: 0.40 to
//! 0.50), while they read a scene out in reading order nearly perfectly (world4's description F1 0.945,
//! session 16). This format asks for the same reading-out with the cells spelled, a text lookup by colour
//! and shape (which `scripts/world/lookup_probe.py` showed learnable where a row supervises many lookups)
//! and a comparison of two number words.
//!
//! It is written only on request (`world sft-data --listed-relations`); `listed_answer`, sampled responses
//! and the critic's reference answer relations in one word. With it in the world stages (session 17) the
//! model read rows but not columns and never looked the two named objects up right, and relations stayed
//! at chance (README, sessions 17-18).
//!
//! Cells count from one, rows from the top and columns from the left, and an object is placed by the cell
//! its box starts in (a large object covers 2 x 2 cells). On the grid that is always enough: two objects
//! the world asks about (centres at least `relation_gap` = one cell apart) start in different cells along
//! the axis, in the order of their centres (`every_generated_relation_is_decided_by_the_looked_up_cells`).

use super::listing::in_reading_order;
use crate::scene::{Colour, Object, Relation, Scene, Shape, cell_side};
use crate::tasks::{Family, Item, Truth, number_word};

/// An object's grid cell, counted from one: (row, column).
fn cell(object: &Object, image_size: u32) -> (u32, u32) {
    let (left, top, _, _) = object.bounds(image_size);
    let side = cell_side(image_size).max(1);
    (top / side + 1, left / side + 1)
}

fn word(n: u32) -> String {
    number_word(n as usize)
}

/// "cross blue row one column six": shape first, as the other listings name objects.
fn positioned_entry(object: &Object, image_size: u32) -> String {
    let (row, column) = cell(object, image_size);
    format!("{} {} row {} column {}", object.shape.word(), object.colour.word(), word(row), word(column))
}

/// The scene read out in reading order with each object's cell: "cross blue row one column six, square
/// white row five column two.".
pub fn positioned_listing(scene: &Scene) -> String {
    let entries: Vec<String> = in_reading_order(scene).into_iter().map(|o| positioned_entry(o, scene.width)).collect();
    format!("{}.", entries.join(", "))
}

/// An object as a question names it: "the red square".
type Named = (Colour, Shape);

/// The two objects and the relation a question asks about: "Is the red square left of the blue cross?"
/// gives ((red, square), left of, (blue, cross)). `None` when the question is not of that form.
fn parse_relation(question: &str) -> Option<(Named, Relation, Named)> {
    let question = question.to_ascii_lowercase();
    let relation = Relation::ALL.into_iter().find(|r| question.contains(&format!(" {} ", r.phrase())))?;
    let (before, after) = question.split_once(&format!(" {} ", relation.phrase()))?;
    let named = |text: &str| {
        let words: Vec<&str> = text.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| !w.is_empty()).collect();
        words.windows(2).find_map(|w| Some((Colour::from_word(w[0])?, Shape::from_word(w[1])?)))
    };
    Some((named(before)?, relation, named(after)?))
}

/// The scene's positioned listing and the two named objects' cells along the asked axis ("square red
/// column three, cross blue column six"), for a relation question; `None` for other families, for a
/// question that is not of the generated form, and where the scene lacks a named object.
pub fn relation_listing_and_lookup(question: &str, truth: &Truth) -> Option<(String, String)> {
    let (a, relation, b) = parse_relation(question)?;
    let scene = &truth.scene;
    let axis = |o: &Object| {
        let (row, column) = cell(o, scene.width);
        match relation {
            Relation::LeftOf | Relation::RightOf => format!("column {}", word(column)),
            Relation::Above | Relation::Below => format!("row {}", word(row)),
        }
    };
    let looked_up = |(colour, shape): Named| {
        scene.find(colour, shape).map(|o| format!("{} {} {}", shape.word(), colour.word(), axis(o)))
    };
    Some((positioned_listing(scene), format!("{}, {}", looked_up(a)?, looked_up(b)?)))
}

/// The positioned listed answer to a relation question about `truth`'s scene that ends in `answer`, right
/// or not: "cross blue row one column six, square red row six column three. square red column three, cross
/// blue column six. yes."; `None` for other families and where [`relation_listing_and_lookup`] has none.
pub fn relation_listed_with(question: &str, truth: &Truth, answer: &str) -> Option<String> {
    if truth.family != Family::Relation {
        return None;
    }
    let (listing, cells) = relation_listing_and_lookup(question, truth)?;
    Some(format!("{listing} {cells}. {answer}."))
}

/// [`relation_listed_with`] the ground truth's answer.
pub fn relation_listed_answer(item: &Item) -> Option<String> {
    relation_listed_with(&item.question, &item.truth, item.answer()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::WorldConfig;
    use crate::text::listing::tests::scene;

    /// The number a cell word names ("one" to "six").
    fn number(word: &str) -> u32 {
        (1..=6).find(|n| super::word(*n) == word).unwrap_or_else(|| panic!("not a cell word: {word}"))
    }

    /// A question about listing.rs's test scene: a cross in the top row, two squares below.
    fn item(question: &str, family: Family, answer: &str) -> Item {
        crate::text::listing::tests::item(question, family, answer, scene())
    }

    #[test]
    fn relations_read_the_cells_out_then_look_the_two_objects_up() {
        let relation = item("Is the red square left of the blue cross?", Family::Relation, "yes");
        let listed = "cross blue row one column six, square white row five column two, square red row six column \
                      three. square red column three, cross blue column six. yes.";
        assert_eq!(relation_listed_answer(&relation).as_deref(), Some(listed));
        let relation = item("Is the white square above the red square?", Family::Relation, "yes");
        let listed = relation_listed_with(&relation.question, &relation.truth, "no").expect("a listed relation");
        assert!(listed.ends_with(". square white row five, square red row six. no."), "{listed}");
        let colour = item("What colour is the cross?", Family::Colour, "blue");
        assert_eq!(relation_listed_answer(&colour), None);
    }

    #[test]
    fn questions_name_two_objects_and_a_relation() {
        let parsed = parse_relation("Is the red square left of the blue cross?");
        assert_eq!(parsed, Some(((Colour::Red, Shape::Square), Relation::LeftOf, (Colour::Blue, Shape::Cross))));
        let parsed = parse_relation("Is the green circle below the white diamond?");
        assert_eq!(parsed, Some(((Colour::Green, Shape::Circle), Relation::Below, (Colour::White, Shape::Diamond))));
        assert_eq!(parse_relation("What colour is the cross?"), None);
        assert_eq!(parse_relation("Is the red square left of the cross?"), None, "the second object has no colour");
    }

    #[test]
    fn every_generated_relation_is_decided_by_the_looked_up_cells() {
        let config = WorldConfig { families: vec![Family::Relation], ..WorldConfig::default() };
        for seed in 0..300 {
            let item = Item::generate(seed, None, &config).expect("an item");
            let (listing, lookup) = relation_listing_and_lookup(&item.question, &item.truth)
                .unwrap_or_else(|| panic!("no lookup for {:?}", item.question));
            assert_eq!(listing.matches(" row ").count(), item.objects().len(), "{listing}");
            let (_, relation, _) = parse_relation(&item.question).expect("a generated relation question");
            let cells: Vec<u32> = lookup.split(", ").map(|e| number(e.rsplit(' ').next().expect("a word"))).collect();
            assert_eq!(cells.len(), 2, "{lookup}");
            let first_is_lower = cells[0] < cells[1];
            assert_ne!(cells[0], cells[1], "{} / {lookup}", item.question);
            let holds = match relation {
                Relation::LeftOf | Relation::Above => first_is_lower,
                Relation::RightOf | Relation::Below => !first_is_lower,
            };
            let expected = if holds { "yes" } else { "no" };
            assert_eq!(item.answer(), Some(expected), "{} / {listing} {lookup}", item.question);
            let axis = if matches!(relation, Relation::LeftOf | Relation::RightOf) { "column" } else { "row" };
            assert_eq!(lookup.matches(axis).count(), 2, "{lookup}");
        }
    }
}
