//! The critic-judged suites of an evaluation, with the campaign's critic as the judge:
//! - `critic/relative`, LLaVA-in-the-Wild's relative score: the critic scores the policy's answer and the
//!   reference answer of each row (pointwise, LLaVA-Critic's released prompt, out of 100), and the suite
//!   reports `100 * sum(answer scores) / sum(reference scores)` over the rows where both scores parse. The
//!   reference is the row's `reference_answer`, else a generated world's ground truth (the short answer, or
//!   the description of every object).
//! - `critic/vs_round0`, WildVision-Bench's comparison with a baseline: the critic compares the policy's
//!   answer with the round-0 policy's answer to the same row in both orders (the campaign's pairwise
//!   template); the suite reports wins, losses and ties of the new policy, its win rate (ties count half),
//!   the critic's position consistency on these pairs, and MLE Elo ratings with round 0 anchored at 1000.
//!
//! Planning ([`plan`]) and scoring ([`summarise`]) are pure; the evaluator runs the critic in between.

use backend::{BackendError, CriticSuites, EvalItem, JudgeRequest};
use critic::metrics::{Anchor, Battle, EloConfig, Winner, mle_elo};
use critic::{Fields, Preference, Verdict, consistency, parse, templates};
use serde_json::{Value, json};
use world::{describe, parse_truth};

/// The pointwise prompt of the relative score.
pub const POINTWISE_TEMPLATE: &str = "llava-critic/pointwise";
/// The rating round 0 is anchored at.
pub const ROUND0_ELO: f64 = 1000.0;

/// What one critic request judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The policy's answer to item `n`, pointwise.
    Answer(usize),
    /// Item `n`'s reference answer, pointwise.
    Reference(usize),
    /// The policy's answer against round 0's on item `n`; `new_first`: the policy's answer is shown first.
    Versus { item: usize, new_first: bool },
}

/// The critic requests of the suites (each with the output format its template asks for), with what each
/// judges.
pub struct Plan {
    pub requests: Vec<JudgeRequest>,
    pub slots: Vec<Slot>,
}

/// The answer an item is scored against.
pub fn reference_of(item: &EvalItem) -> Option<String> {
    if let Some(r) = item.reference_answer.as_ref().filter(|r| !r.trim().is_empty()) {
        return Some(r.clone());
    }
    let truth = item.extra.as_ref().and_then(parse_truth)?;
    Some(truth.answer.clone().unwrap_or_else(|| describe(&truth.scene.objects)))
}

/// The requests for `items`, whose answers (the policy's, and round 0's when it is another checkpoint)
/// are given; rows without an answer are left out. An unknown or non-pairwise template is a permanent
/// error: the campaign names it.
pub fn plan(
    items: &[EvalItem],
    answers: &[Result<String, BackendError>],
    round0: Option<&[Result<String, BackendError>]>,
    suites: &CriticSuites,
) -> Result<Plan, BackendError> {
    let pointwise = templates::get(POINTWISE_TEMPLATE)
        .ok_or_else(|| BackendError::Permanent(format!("no template `{POINTWISE_TEMPLATE}`")))?;
    let pairwise = match round0 {
        Some(_) => {
            let t = templates::get(&suites.pairwise_template).ok_or_else(|| {
                BackendError::Permanent(format!("unknown critic template `{}`", suites.pairwise_template))
            })?;
            if t.mode != critic::Mode::Pairwise {
                return Err(BackendError::Permanent(format!(
                    "critic template `{}` is not pairwise: the comparison with round 0 needs one",
                    suites.pairwise_template
                )));
            }
            Some(t)
        }
        None => None,
    };
    let mut plan = Plan { requests: Vec::new(), slots: Vec::new() };
    let render = |t: &critic::Template, fields: &Fields<'_>, item: &EvalItem| -> Result<String, BackendError> {
        let prompt = t.render(fields).map_err(|e| BackendError::Permanent(format!("{}: {e}", t.id)))?;
        Ok(if item.image.is_some() { templates::with_image_token(&prompt) } else { prompt })
    };
    let request = |prompt: String, item: &EvalItem, first: &str, second: Option<&str>, format| JudgeRequest {
        prompt,
        question: item.question.clone(),
        image: item.image.clone(),
        first: first.to_string(),
        second: second.map(str::to_string),
        critic_uri: suites.critic_uri.clone(),
        format,
        truth: item.extra.as_ref().and_then(|extra| extra.get("world")).cloned(),
    };
    for (n, (item, answer)) in items.iter().zip(answers).enumerate() {
        let Ok(answer) = answer else { continue };
        if let Some(reference) = reference_of(item) {
            for (slot, response) in [(Slot::Answer(n), answer.as_str()), (Slot::Reference(n), reference.as_str())] {
                let prompt = render(pointwise, &Fields::pointwise(&item.question, response), item)?;
                plan.requests.push(request(prompt, item, response, None, pointwise.format));
                plan.slots.push(slot);
            }
        }
        if let (Some(t), Some(Ok(old))) = (pairwise, round0.and_then(|r| r.get(n))) {
            for new_first in [true, false] {
                let (a, b) = if new_first { (answer, old) } else { (old, answer) };
                let prompt = render(t, &Fields::pairwise(&item.question, a, b), item)?;
                plan.requests.push(request(prompt, item, a, Some(b), t.format));
                plan.slots.push(Slot::Versus { item: n, new_first });
            }
        }
    }
    Ok(plan)
}

/// The suites from the critic's outputs (one per request of `plan`, in order).
pub fn summarise(plan: &Plan, outputs: &[Result<String, BackendError>]) -> Vec<(String, Value)> {
    let mut scores: std::collections::BTreeMap<usize, [Option<f64>; 2]> = Default::default();
    let (mut point_failed, mut point_unparsed, mut point_judged) = (0, 0, 0);
    let mut verdicts: Vec<(usize, usize, Preference)> = Vec::new();
    let (mut pair_failed, mut pair_unparsed, mut pair_judged) = (0, 0, 0);
    for ((slot, request), output) in plan.slots.iter().zip(&plan.requests).zip(outputs) {
        match *slot {
            Slot::Answer(n) | Slot::Reference(n) => {
                point_judged += 1;
                let Ok(text) = output else {
                    point_failed += 1;
                    continue;
                };
                let score = match parse(request.format, text).verdict() {
                    Some(Verdict::Score { value }) => Some(*value),
                    _ => None,
                };
                if score.is_none() {
                    point_unparsed += 1;
                }
                scores.entry(n).or_default()[usize::from(matches!(slot, Slot::Reference(_)))] = score;
            }
            Slot::Versus { item, new_first } => {
                pair_judged += 1;
                let Ok(text) = output else {
                    pair_failed += 1;
                    continue;
                };
                match parse(request.format, text).verdict().and_then(Verdict::preference) {
                    // the new answer is model 2n, round 0's is 2n + 1; `i` was shown first
                    Some(p) if new_first => verdicts.push((2 * item, 2 * item + 1, p)),
                    Some(p) => verdicts.push((2 * item + 1, 2 * item, p)),
                    None => pair_unparsed += 1,
                }
            }
        }
    }
    let mut suites = Vec::new();
    if point_judged > 0 {
        let both: Vec<(f64, f64)> = scores.values().filter_map(|[a, r]| Some(((*a)?, (*r)?))).collect();
        let (sum_a, sum_r) = both.iter().fold((0.0, 0.0), |(a, r), (x, y)| (a + x, r + y));
        let n = both.len() as f64;
        suites.push((
            "critic/relative".to_string(),
            json!({
                "template": POINTWISE_TEMPLATE,
                "items": both.len(), "judgments": point_judged, "unparsed": point_unparsed, "failed": point_failed,
                "answer_score": (n > 0.0).then(|| sum_a / n),
                "reference_score": (n > 0.0).then(|| sum_r / n),
                "relative_score": (sum_r > 0.0).then(|| 100.0 * sum_a / sum_r),
            }),
        ));
    }
    if pair_judged > 0 {
        suites.push(("critic/vs_round0".to_string(), versus(&verdicts, pair_judged, pair_unparsed, pair_failed)));
    }
    suites
}

/// Wins, losses and ties of the new policy (models `2n`) against round 0 (models `2n + 1`).
fn versus(verdicts: &[(usize, usize, Preference)], judged: usize, unparsed: usize, failed: usize) -> Value {
    let (mut wins, mut losses, mut ties) = (0usize, 0usize, 0usize);
    let mut battles = Vec::new();
    for &(first, _, p) in verdicts {
        let new_first = first % 2 == 0;
        let winner = match (p, new_first) {
            (Preference::Tie, _) => Winner::Tie,
            (Preference::First, true) | (Preference::Second, false) => Winner::A,
            (Preference::First, false) | (Preference::Second, true) => Winner::B,
        };
        match winner {
            Winner::A => wins += 1,
            Winner::B => losses += 1,
            Winner::Tie => ties += 1,
        }
        battles.push(Battle { model_a: "round", model_b: "round0", winner });
    }
    let decided = wins + losses + ties;
    let config = EloConfig { init: ROUND0_ELO, anchor: Anchor::Model("round0".into()), ..EloConfig::default() };
    let (elo, elo_error) = match mle_elo(&battles, &config) {
        Ok(ratings) => (ratings.get("round").copied(), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let position = consistency(verdicts);
    json!({
        "judgments": judged, "unparsed": unparsed, "failed": failed,
        "wins": wins, "losses": losses, "ties": ties,
        "win_rate": (decided > 0).then(|| (wins as f64 + 0.5 * ties as f64) / decided as f64),
        "position_consistency": position.rate(), "pairs_checked": position.checked,
        "elo": elo, "elo_round0": ROUND0_ELO, "elo_error": elo_error,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, reference: Option<&str>) -> EvalItem {
        EvalItem {
            id: id.into(),
            question: format!("question {id}"),
            image: None,
            reference_answer: reference.map(str::to_string),
            extra: None,
        }
    }

    fn suites() -> CriticSuites {
        CriticSuites {
            critic_uri: "critic".into(),
            pairwise_template: "llava-critic/pairwise".into(),
            round0_uri: "round0".into(),
        }
    }

    fn get<'a>(suites: &'a [(String, Value)], name: &str) -> &'a Value {
        &suites.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no suite {name}")).1
    }

    #[test]
    fn relative_score_is_the_ratio_of_score_sums_over_rows_where_both_parse() {
        let items = [item("a", Some("ref a")), item("b", Some("ref b")), item("c", None)];
        let answers = vec![Ok("ans a".to_string()), Ok("ans b".to_string()), Ok("ans c".to_string())];
        let plan = plan(&items, &answers, None, &suites()).expect("plan");
        assert_eq!(plan.slots, vec![Slot::Answer(0), Slot::Reference(0), Slot::Answer(1), Slot::Reference(1)]);
        assert!(plan.requests[0].prompt.contains("ans a") && plan.requests[1].prompt.contains("ref a"));
        let outputs = vec![
            Ok("Score: 60".to_string()),
            Ok("Score: 80".to_string()),
            Ok("no score here".to_string()),
            Ok("Score: 90".to_string()),
        ];
        let s = summarise(&plan, &outputs);
        let r = get(&s, "critic/relative");
        assert_eq!(r["items"], 1);
        assert_eq!(r["unparsed"], 1);
        assert_eq!(r["relative_score"].as_f64(), Some(75.0));
        assert!(s.iter().all(|(n, _)| n != "critic/vs_round0"), "no round-0 answers, no comparison");
    }

    #[test]
    fn versus_round0_counts_both_orders_and_its_elo_is_the_two_player_closed_form() {
        let items: Vec<EvalItem> = (0..4).map(|i| item(&format!("{i}"), None)).collect();
        let answers: Vec<_> = (0..4).map(|i| Ok(format!("new {i}"))).collect();
        let old: Vec<_> = (0..4).map(|i| Ok(format!("old {i}"))).collect();
        let plan = plan(&items, &answers, Some(&old), &suites()).expect("plan");
        assert_eq!(plan.requests.len(), 8);
        assert!(plan.requests[0].prompt.find("new 0") < plan.requests[0].prompt.find("old 0"));
        assert!(plan.requests[1].prompt.find("old 0") < plan.requests[1].prompt.find("new 0"));
        let first = "The better response: [1].".to_string();
        let second = "The better response: [2].".to_string();
        let tie = "Two responses are equally good.".to_string();
        // item 0: new wins both orders; 1: new wins shown first only (inconsistent); 2: tie both; 3: old wins both
        let outputs: Vec<Result<String, BackendError>> = [
            &first, &second, // 0
            &first, &first, // 1
            &tie, &tie, // 2
            &second, &first, // 3
        ]
        .into_iter()
        .map(|s| Ok(s.clone()))
        .collect();
        let v = get(&summarise(&plan, &outputs), "critic/vs_round0").clone();
        assert_eq!((v["wins"].as_u64(), v["losses"].as_u64(), v["ties"].as_u64()), (Some(3), Some(3), Some(2)));
        assert_eq!(v["win_rate"].as_f64(), Some(0.5));
        assert_eq!(v["position_consistency"].as_f64(), Some(0.75));
        // two players: the MLE rating difference is 400 log10(w / (1 - w)), w the win share with half ties
        let elo = v["elo"].as_f64().expect("elo");
        assert!((elo - ROUND0_ELO).abs() < 1e-6, "{elo}");

        let outputs: Vec<Result<String, BackendError>> =
            [&first, &second, &first, &second, &first, &second, &second, &first]
                .into_iter()
                .map(|s| Ok(s.clone()))
                .collect();
        let v = get(&summarise(&plan, &outputs), "critic/vs_round0").clone();
        let w: f64 = 6.0 / 8.0;
        let expected = ROUND0_ELO + 400.0 * (w / (1.0 - w)).log10();
        assert!((v["elo"].as_f64().expect("elo") - expected).abs() < 1e-6, "{v}");
        assert_eq!(v["win_rate"].as_f64(), Some(w));
    }

    #[test]
    fn failed_and_unparsed_judgments_are_counted_not_scored() {
        let items = [item("a", Some("ref"))];
        let answers = vec![Ok("ans".to_string())];
        let old = vec![Ok("old".to_string())];
        let plan = plan(&items, &answers, Some(&old), &suites()).expect("plan");
        let outputs = vec![
            Err(BackendError::Transient("device".into())),
            Ok("Score: 50".into()),
            Ok("gibberish".into()),
            Ok("The better response: [1].".into()),
        ];
        let s = summarise(&plan, &outputs);
        let r = get(&s, "critic/relative");
        assert_eq!((r["failed"].as_u64(), r["items"].as_u64()), (Some(1), Some(0)));
        assert!(r["relative_score"].is_null());
        let v = get(&s, "critic/vs_round0");
        assert_eq!((v["unparsed"].as_u64(), v["losses"].as_u64()), (Some(1), Some(1)));
        assert!(v["elo"].is_null() && v["elo_error"].is_string(), "one loss: the MLE is infinite");
    }

    #[test]
    fn a_pointwise_campaign_template_cannot_compare_with_round0() {
        let s = CriticSuites { pairwise_template: "llava-critic/pointwise".into(), ..suites() };
        let answers = vec![Ok("a".to_string())];
        let err = plan(&[item("a", None)], &answers, Some(&answers), &s).err().expect("refused");
        assert!(matches!(err, BackendError::Permanent(m) if m.contains("not pairwise")));
    }

    #[test]
    fn world_rows_are_judged_against_their_ground_truth() {
        let source = world::World::items(3, 8, &world::WorldConfig::default()).expect("world");
        let items: Vec<EvalItem> = source
            .iter()
            .map(|i| EvalItem {
                id: i.id.clone(),
                question: i.question.clone(),
                image: None,
                reference_answer: None,
                extra: Some(json!({ "world": world::dataset::truth_json(&i.truth).expect("truth") })),
            })
            .collect();
        assert!(source.iter().any(|i| i.truth.answer.is_none()) && source.iter().any(|i| i.truth.answer.is_some()));
        for (it, src) in items.iter().zip(&source) {
            let expected = src.truth.answer.clone().unwrap_or_else(|| describe(&src.truth.scene.objects));
            assert_eq!(reference_of(it), Some(expected));
        }
    }
}
