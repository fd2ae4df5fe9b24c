//! Descriptions parsed back, constructed imperfections scored exactly, junk, sampled responses, the oracle.

use std::cmp::Ordering;

use proptest::prelude::*;
use world::score::{Mention, better, is_correct, parse_mentions, score_description, summarise};
use world::text::{
    Phrasing, describe, describe_imperfect, describe_varied, describe_with, hallucination, sample_response,
};
use world::{Family, Item, Object, Scene, SplitMix64, World, WorldConfig};

fn mentions_of(objects: &[Object]) -> Vec<Mention> {
    objects.iter().map(|o| Mention { size: Some(o.size), colour: Some(o.colour), shape: o.shape }).collect()
}

fn scenes(n: u64) -> impl Iterator<Item = Scene> {
    let config = WorldConfig { max_objects: 6, ..WorldConfig::default() };
    (0..n).map(move |seed| Scene::generate(seed, &config).expect("valid"))
}

#[test]
fn descriptions_parse_back_to_exactly_the_objects() {
    for (seed, scene) in scenes(300).enumerate() {
        for phrasing in Phrasing::ALL {
            let text = describe_with(&scene.objects, phrasing);
            assert_eq!(parse_mentions(&text), mentions_of(&scene.objects), "{text}");
        }
        let mut rng = SplitMix64::new(seed as u64);
        // the scene is in reading order, and a varied description keeps it, whatever order it is given
        let mut reversed = scene.objects.clone();
        reversed.reverse();
        let text = describe_varied(&reversed, scene.width, &mut rng);
        assert_eq!(parse_mentions(&text), mentions_of(&scene.objects), "{text}");
        let score = score_description(&text, &scene.objects);
        assert_eq!((score.precision, score.recall, score.f1, score.hallucination_rate), (1.0, 1.0, 1.0, 0.0));
    }
}

#[test]
fn constructed_imperfections_score_exactly() {
    for (seed, scene) in scenes(300).enumerate() {
        let mut rng = SplitMix64::new(1000 + seed as u64);
        let n = scene.objects.len();
        let omit: Vec<usize> = (0..n).filter(|_| rng.chance(0.4)).collect();
        let mut invented: Vec<Object> = Vec::new();
        for _ in 0..rng.below(3) {
            let taken: Vec<Object> = scene.objects.iter().chain(&invented).copied().collect();
            invented.push(hallucination(&taken, scene.width, &mut rng).expect("kinds are left"));
        }
        let text = describe_imperfect(&scene, &omit, &invented);
        let s = score_description(&text, &scene.objects);
        let (kept, h) = ((n - omit.len()) as f64, invented.len() as f64);
        assert_eq!((s.mentioned, s.matched, s.truth), (n - omit.len() + invented.len(), n - omit.len(), n), "{text}");
        let precision = if kept + h == 0.0 { 1.0 } else { kept / (kept + h) };
        let recall = kept / n as f64;
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        assert_eq!(s.precision, precision, "{text}");
        assert_eq!(s.recall, recall, "{text}");
        assert_eq!(s.f1, f1, "{text}");
        assert_eq!(s.hallucination_rate, 1.0 - precision, "{text}");
    }
}

#[test]
fn hallucinations_never_take_a_true_kind() {
    let mut rng = SplitMix64::new(5);
    for scene in scenes(300) {
        let h = hallucination(&scene.objects, scene.width, &mut rng).expect("kinds are left");
        assert!(scene.find(h.colour, h.shape).is_none(), "{h:?} is in {scene:?}");
    }
    // every kind taken: none left
    let all: Vec<Object> = world::Colour::ALL
        .iter()
        .flat_map(|&colour| {
            world::Shape::ALL.iter().map(move |&shape| Object { shape, colour, size: world::Size::Small, x: 0, y: 0 })
        })
        .collect();
    assert_eq!(hallucination(&all, 48, &mut rng), None);
}

fn sampled_f1(items: &[Item], quality: f64) -> f64 {
    let mut rng = SplitMix64::new(99);
    let scores: Vec<_> =
        items.iter().map(|i| score_description(&sample_response(i, &mut rng, quality), i.objects())).collect();
    summarise(&scores).mean_f1
}

fn sampled_accuracy(items: &[Item], quality: f64) -> f64 {
    let mut rng = SplitMix64::new(99);
    let right = items.iter().filter(|i| is_correct(&i.truth, &sample_response(i, &mut rng, quality)) == Some(true));
    right.count() as f64 / items.len() as f64
}

#[test]
fn sampled_responses_get_worse_with_lower_quality() {
    let config = WorldConfig::default();
    let describe_only = WorldConfig { families: vec![Family::Describe], ..config.clone() };
    let short =
        WorldConfig { families: vec![Family::Colour, Family::Count, Family::Presence, Family::Relation], ..config };
    let descriptions = World::items(1, 300, &describe_only).expect("generates");
    let questions = World::items(2, 300, &short).expect("generates");
    assert_eq!(sampled_f1(&descriptions, 1.0), 1.0);
    assert_eq!(sampled_accuracy(&questions, 1.0), 1.0);
    assert_eq!(sampled_accuracy(&questions, 0.0), 0.0);
    let (high, mid, low) =
        (sampled_f1(&descriptions, 0.8), sampled_f1(&descriptions, 0.5), sampled_f1(&descriptions, 0.0));
    assert!(1.0 > high && high > mid && mid > low && low > 0.0, "F1 {high} {mid} {low}");
    // about a quarter of colour, presence and count answers are listed (the scene read out first), and are
    // read by their last word: accuracy at quality 1 above covers them
    let mut rng = SplitMix64::new(5);
    let listed = questions
        .iter()
        .filter(|i| sample_response(i, &mut rng, 1.0).starts_with(&world::text::listing(i.scene())))
        .count();
    assert!((30..90).contains(&listed), "{listed} of 300 listed");
    let mid_accuracy = sampled_accuracy(&questions, 0.5);
    assert!((0.4..0.6).contains(&mid_accuracy), "{mid_accuracy}");
    // the same generator state gives the same response
    let item = &descriptions[0];
    let text = |seed| sample_response(item, &mut SplitMix64::new(seed), 0.3);
    assert_eq!(text(4), text(4));
}

#[test]
fn the_oracle_prefers_the_truth() {
    let items = World::items(11, 200, &WorldConfig::default()).expect("generates");
    let mut rng = SplitMix64::new(3);
    for item in &items {
        let perfect = match item.answer() {
            Some(answer) => answer.to_string(),
            None => describe(item.objects()),
        };
        let other = sample_response(item, &mut rng, 0.3);
        assert_ne!(better(&item.truth, &perfect, &other), Ordering::Less, "{other:?} beats {perfect:?}");
        assert_eq!(better(&item.truth, &perfect, &perfect), Ordering::Equal);
        assert_eq!(better(&item.truth, &perfect, &other), better(&item.truth, &other, &perfect).reverse());
    }
}

const JUNK_WORDS: [&str; 16] =
    ["the", "a", "an", "one", "red", "blue", "large", "small", "is", "there", "and", "of", "no", "two", "circl", "squ"];

const MIXED_WORDS: [&str; 14] =
    ["circle", "squares", "cross.", "red", "big", "green,", "not", "a", "the", "zzz", "is", "and", "diamond", "??"];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn junk_words_without_shapes_give_no_mentions(words in proptest::collection::vec(0..JUNK_WORDS.len(), 0..30)) {
        let text = words.iter().map(|i| JUNK_WORDS[*i]).collect::<Vec<_>>().join(" ");
        prop_assert!(parse_mentions(&text).is_empty(), "{}", text);
    }

    #[test]
    fn random_bytes_do_not_panic_or_invent(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let lower = text.to_ascii_lowercase();
        for m in parse_mentions(&text) {
            prop_assert!(lower.contains(m.shape.word()) || lower.contains(m.shape.plural()));
            if let Some(c) = m.colour {
                prop_assert!(lower.contains(c.word()));
            }
        }
    }

    #[test]
    fn mentions_need_their_own_shape_word(words in proptest::collection::vec(0..MIXED_WORDS.len(), 0..30)) {
        let text = words.iter().map(|i| MIXED_WORDS[*i]).collect::<Vec<_>>().join(" ");
        let shape_words = words.iter().filter(|i| world::Shape::from_word(MIXED_WORDS[**i].trim_matches(['.', ','])).is_some()).count();
        let mentions = parse_mentions(&text);
        prop_assert!(mentions.len() <= shape_words, "{} mentions in {}", mentions.len(), text);
    }

    #[test]
    fn any_text_is_scored_in_range(text in "\\PC{0,120}") {
        let objects = Scene::generate(1, &WorldConfig::default()).expect("valid").objects;
        let s = score_description(&text, &objects);
        prop_assert!(s.matched <= s.mentioned.min(s.truth));
        for v in [s.precision, s.recall, s.f1, s.hallucination_rate] {
            prop_assert!((0.0..=1.0).contains(&v));
        }
    }
}
