//! Items: reproducibility, and every short answer recomputed from the scene.

use std::collections::HashMap;

use world::tasks::{DESCRIBE_PROMPT, number_word};
use world::{Colour, Family, Item, Scene, Shape, World, WorldConfig};

fn shape_named(word: &str) -> Shape {
    Shape::from_word(word).unwrap_or_else(|| panic!("{word:?} is not a shape"))
}

fn colour_named(word: &str) -> Colour {
    Colour::from_word(word).unwrap_or_else(|| panic!("{word:?} is not a colour"))
}

/// "the red circle" inside a question → the scene's object with that colour and shape.
fn object_named<'a>(scene: &'a Scene, colour: &str, shape: &str) -> &'a world::Object {
    scene.find(colour_named(colour), shape_named(shape)).unwrap_or_else(|| panic!("no {colour} {shape} in {scene:?}"))
}

/// The answer to `question`, computed from the scene by reading the question's words.
fn recompute(question: &str, scene: &Scene, gap: u32) -> Option<String> {
    let words: Vec<&str> = question.trim_end_matches('?').split(' ').collect();
    let yes_no = |b: bool| Some(if b { "yes" } else { "no" }.to_string());
    match words.as_slice() {
        ["What", "colour", "is", "the", shape] => {
            let matching: Vec<_> = scene.objects.iter().filter(|o| o.shape == shape_named(shape)).collect();
            assert_eq!(matching.len(), 1, "{question} is ambiguous in {scene:?}");
            Some(matching[0].colour.word().to_string())
        }
        ["How", "many", shapes, "are", "there"] => {
            Some(number_word(scene.objects.iter().filter(|o| o.shape == shape_named(shapes)).count()))
        }
        ["Is", "there", "a", colour, shape] => {
            let (c, s) = (colour_named(colour), shape_named(shape));
            yes_no(scene.objects.iter().any(|o| o.colour == c && o.shape == s))
        }
        ["Is", "the", c1, s1, relation @ .., "the", c2, s2] => {
            let (a, b) = (object_named(scene, c1, s1), object_named(scene, c2, s2));
            assert_ne!(a, b);
            // from the coordinates (y grows downwards), independently of `Relation::holds`
            let (first, second) = match relation.join(" ").as_str() {
                "left of" => (a.x, b.x),
                "right of" => (b.x, a.x),
                "above" => (a.y, b.y),
                "below" => (b.y, a.y),
                other => panic!("unknown relation {other:?}"),
            };
            assert!(first.abs_diff(second) >= gap, "{question}: the gap is not clear in {scene:?}");
            yes_no(first < second)
        }
        _ if question == DESCRIBE_PROMPT => None,
        _ => panic!("unexpected question {question:?}"),
    }
}

#[test]
fn every_answer_is_right_by_recomputation() {
    let config = WorldConfig::default();
    let mut answers: HashMap<(Family, String), usize> = HashMap::new();
    for family in Family::ALL {
        for seed in 0..300 {
            let item = Item::generate(seed, Some(family), &config).expect("generates");
            assert_eq!(item.family(), family);
            assert_eq!(
                item.answer().map(str::to_string),
                recompute(&item.question, item.scene(), config.relation_gap),
                "{item:?}"
            );
            assert_eq!(family.is_short(), item.answer().is_some());
            assert_eq!(
                &Scene::generate(item.truth.seed, &config).expect("valid"),
                item.scene(),
                "the scene seed rebuilds it"
            );
            *answers.entry((family, item.answer().unwrap_or("").to_string())).or_default() += 1;
        }
    }
    // the answers are not degenerate: yes and no both common, several colours and counts
    for family in [Family::Presence, Family::Relation] {
        for answer in ["yes", "no"] {
            let n = answers.get(&(family, answer.to_string())).copied().unwrap_or(0);
            assert!(n > 60, "{family:?} answered {answer} only {n} of 300 times");
        }
    }
    let kinds = |family| answers.keys().filter(|(f, _)| *f == family).count();
    assert!(kinds(Family::Colour) == Colour::ALL.len(), "{answers:?}");
    assert!(kinds(Family::Count) >= 3, "{answers:?}");
    assert!(answers.contains_key(&(Family::Count, "zero".to_string())));
}

#[test]
fn items_are_reproducible_and_mixed() {
    let config = WorldConfig::default();
    let a = World::items(7, 100, &config).expect("generates");
    assert_eq!(a, World::items(7, 100, &config).expect("generates"));
    assert_eq!(a[0].id, "w7-0");
    assert_eq!(a[99].id, "w7-99");
    let b = World::items(8, 100, &config).expect("generates");
    let same = a.iter().zip(&b).filter(|(x, y)| x.truth == y.truth && x.question == y.question).count();
    assert!(same < 5, "{same} of 100 items equal across seeds");
    for family in Family::ALL {
        let n = a.iter().filter(|i| i.family() == family).count();
        assert!((8..=35).contains(&n), "{family:?}: {n} of 100");
    }
    let only = WorldConfig { families: vec![Family::Count], ..WorldConfig::default() };
    assert!(World::items(1, 20, &only).expect("generates").iter().all(|i| i.family() == Family::Count));
}

#[test]
fn impossible_families_are_an_error() {
    let single = WorldConfig { max_objects: 1, ..WorldConfig::default() };
    assert!(matches!(
        Item::generate(3, Some(Family::Relation), &single),
        Err(world::WorldError::Impossible { family: "relation", .. })
    ));
    assert!(Item::generate(3, Some(Family::Colour), &single).is_ok());
}
