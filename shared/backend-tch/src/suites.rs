//! Scores a policy's greedy answers to held-out rows that carry a generated world's ground truth (the
//! row's `world` field, `world::parse_truth`): exact match for the short-answer families, overall and per
//! family (`world/short`), and object precision, recall, F1 and hallucination rate (the share of mentioned
//! objects that are not in the image, CHAIR_i) for descriptions (`world/describe`). Rows without ground
//! truth are counted (`heldout`); rows whose answer failed are counted as failed, not scored. Each suite
//! keeps its first few answers, to read next to the numbers.

use std::collections::BTreeMap;

use backend::{BackendError, EvalItem};
use serde_json::{Value, json};
use world::{DescriptionScore, Truth, exact_match, parse_truth, score_description, summarise};

/// Answers kept per suite.
pub const EXAMPLES: usize = 5;

/// The suites for `items` and their answers (one per item, in order).
pub fn score(items: &[EvalItem], answers: &[Result<String, BackendError>]) -> Vec<(String, Value)> {
    let mut short: BTreeMap<&'static str, (usize, usize)> = BTreeMap::new();
    let mut short_examples = Vec::new();
    let mut descriptions: Vec<DescriptionScore> = Vec::new();
    let mut describe_examples = Vec::new();
    let (mut unscored, mut failed_short, mut failed_describe, mut failed_other) = (0, 0, 0, 0);
    for (item, answer) in items.iter().zip(answers) {
        let truth: Option<Truth> = item.extra.as_ref().and_then(parse_truth);
        match (truth, answer) {
            (None, Ok(_)) => unscored += 1,
            (None, Err(_)) => failed_other += 1,
            (Some(t), Err(_)) if t.answer.is_some() => failed_short += 1,
            (Some(_), Err(_)) => failed_describe += 1,
            (Some(t), Ok(text)) => match &t.answer {
                Some(expected) => {
                    let right = exact_match(text, expected);
                    let entry = short.entry(t.family.name()).or_default();
                    entry.0 += 1;
                    entry.1 += usize::from(right);
                    if short_examples.len() < EXAMPLES {
                        short_examples.push(json!({"id": item.id, "question": item.question, "answer": text,
                                                   "expected": expected, "correct": right}));
                    }
                }
                None => {
                    let s = score_description(text, &t.scene.objects);
                    if describe_examples.len() < EXAMPLES {
                        describe_examples.push(json!({"id": item.id, "answer": text, "f1": s.f1,
                                                      "hallucination_rate": s.hallucination_rate}));
                    }
                    descriptions.push(s);
                }
            },
        }
    }
    let mut suites = Vec::new();
    let (n, right) = short.values().fold((0, 0), |(n, r), (a, b)| (n + a, r + b));
    if n + failed_short > 0 {
        let per_family: serde_json::Map<String, Value> = short
            .iter()
            .map(|(family, (n, r))| ((*family).to_string(), json!({"items": n, "exact_match": ratio(*r, *n)})))
            .collect();
        suites.push((
            "world/short".to_string(),
            json!({"items": n, "failed": failed_short, "exact_match": ratio(right, n), "per_family": per_family,
                   "examples": short_examples}),
        ));
    }
    if !descriptions.is_empty() || failed_describe > 0 {
        let s = summarise(&descriptions);
        suites.push((
            "world/describe".to_string(),
            json!({"items": s.responses, "failed": failed_describe, "precision": s.precision, "recall": s.recall,
                   "f1": s.f1, "mean_f1": s.mean_f1, "hallucination_rate": s.hallucination_rate,
                   "mentioned": s.mentioned, "matched": s.matched, "objects": s.truth,
                   "examples": describe_examples}),
        ));
    }
    if unscored + failed_other > 0 {
        suites.push(("heldout".to_string(), json!({"items": unscored, "failed": failed_other})));
    }
    suites
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 0.0 } else { num as f64 / den as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use world::{Family, WorldConfig, describe, describe_imperfect};

    fn item(world_item: &world::Item) -> EvalItem {
        let truth = world::dataset::truth_json(&world_item.truth).expect("truth serialises");
        EvalItem {
            id: world_item.id.clone(),
            question: world_item.question.clone(),
            image: None,
            reference_answer: None,
            extra: Some(json!({"world": truth})),
        }
    }

    #[test]
    fn suites_count_exact_matches_and_object_scores() {
        let config = WorldConfig { max_objects: 4, min_objects: 2, ..WorldConfig::default() };
        let shorts: Vec<world::Item> =
            (0..4).map(|s| world::Item::generate(s, Some(Family::Count), &config).expect("item")).collect();
        let descs: Vec<world::Item> =
            (10..12).map(|s| world::Item::generate(s, Some(Family::Describe), &config).expect("item")).collect();
        let mut items: Vec<EvalItem> = shorts.iter().chain(&descs).map(item).collect();
        items.push(EvalItem {
            id: "plain".into(),
            question: "Hi?".into(),
            image: None,
            reference_answer: None,
            extra: None,
        });
        let answer = |i: &world::Item| i.answer().map(str::to_string).unwrap_or_default();
        let answers: Vec<Result<String, BackendError>> = vec![
            Ok(format!("{}.", answer(&shorts[0]))),              // right
            Ok(answer(&shorts[1]).to_uppercase()),               // right (case)
            Ok("zebra".into()),                                  // wrong
            Err(BackendError::Permanent("too long".into())),     // failed
            Ok(describe(descs[0].objects())),                    // perfect: 2+ objects
            Ok(describe_imperfect(descs[1].scene(), &[0], &[])), // one omission
            Ok("hello".into()),                                  // no truth
        ];
        let suites: BTreeMap<String, Value> = score(&items, &answers).into_iter().collect();
        let short = &suites["world/short"];
        assert_eq!((short["items"].as_u64(), short["failed"].as_u64()), (Some(3), Some(1)));
        assert_eq!(short["exact_match"].as_f64(), Some(2.0 / 3.0));
        assert_eq!(short["per_family"]["count"]["items"].as_u64(), Some(3));
        let d = &suites["world/describe"];
        let (n0, n1) = (descs[0].objects().len() as f64, descs[1].objects().len() as f64);
        // mentioned n0 + n1 - 1, all matched; truth n0 + n1
        assert_eq!(d["precision"].as_f64(), Some(1.0));
        assert_eq!(d["hallucination_rate"].as_f64(), Some(0.0));
        assert_eq!(d["recall"].as_f64(), Some((n0 + n1 - 1.0) / (n0 + n1)));
        let f1_second = 2.0 * ((n1 - 1.0) / n1) / (1.0 + (n1 - 1.0) / n1);
        assert!((d["mean_f1"].as_f64().unwrap_or(0.0) - (1.0 + f1_second) / 2.0).abs() < 1e-12, "{d}");
        assert_eq!(suites["heldout"]["items"].as_u64(), Some(1));
        assert_eq!(short["examples"].as_array().map(Vec::len), Some(3));
    }

    #[test]
    fn suites_score_hallucinations() {
        let config = WorldConfig { min_objects: 2, max_objects: 2, ..WorldConfig::default() };
        let d = world::Item::generate(5, Some(Family::Describe), &config).expect("item");
        let fake = world::text::hallucination(d.objects(), config.image_size, &mut world::SplitMix64::new(9))
            .expect("a free kind");
        let items = vec![item(&d)];
        let answers = vec![Ok(describe_imperfect(d.scene(), &[], &[fake]))];
        let suites: BTreeMap<String, Value> = score(&items, &answers).into_iter().collect();
        let m = &suites["world/describe"];
        // 1 - precision, as world computes it
        assert!((m["hallucination_rate"].as_f64().unwrap_or(0.0) - 1.0 / 3.0).abs() < 1e-12, "{m}");
        assert_eq!((m["mentioned"].as_u64(), m["matched"].as_u64()), (Some(3), Some(2)), "{m}");
        assert_eq!(m["recall"].as_f64(), Some(1.0), "{m}");
        assert!(!suites.contains_key("world/short"));
    }
}
