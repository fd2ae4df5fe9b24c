//! The template registry: exact released prompts, the pool's size and coverage, and rendering errors.

use criticloop_critic as critic;

use critic::templates::{self, Field, Fields, RenderError, Source, render_text};
use critic::{Mode, OutputFormat};
use std::collections::BTreeSet;

#[test]
fn templates_released_prompts_are_exact() {
    // METHOD.md section 1, with {q}, {r1}, {r2}, {r} filled in
    let pairwise = templates::CRITIC_PAIRWISE.render(&Fields::pairwise("Q?", "R1", "R2")).expect("all fields");
    assert_eq!(
        pairwise,
        "Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate the quality of the answers provided by a Large Multimodal Model (LMM). Determine which answer is better and explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [Q?]\nThe first response: [R1]\nThe second response: [R2]\nASSISTANT:\n"
    );
    let pointwise = templates::CRITIC_POINTWISE.render(&Fields::pointwise("Q?", "R")).expect("all fields");
    assert_eq!(
        pointwise,
        "Given an image and a corresponding question, please serve as an unbiased and fair judge to evaluate the quality of answer answers provided by a Large Multimodal Model (LMM). Score the response out of 100 and explain your reasoning with specific details. Your task is provided as follows:\nQuestion: [Q?]\nThe LMM response: [R]\nASSISTANT:\n "
    );
    assert_eq!(templates::CRITIC_PAIRWISE.format, OutputFormat::CriticPairwise);
    assert_eq!(templates::CRITIC_POINTWISE.format, OutputFormat::CriticPointwise);
    assert_eq!(templates::with_image_token("P"), "<image>\nP");
}

#[test]
fn templates_ids_are_unique_and_stable() {
    let ids: Vec<&str> = templates::all().map(|t| t.id).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "duplicate template ids");
    for id in ["llava-critic/pairwise", "llava-critic/pointwise", "paper/table7-criteria", "paper/table7-expert"] {
        assert!(templates::get(id).is_some(), "{id} missing");
    }
}

#[test]
fn templates_pairwise_pool_covers_the_paper_and_criticloop() {
    let pool: Vec<_> = templates::pairwise_pool().collect();
    let own = pool.iter().filter(|t| t.source == Source::Criticloop).count();
    let paper = pool.iter().filter(|t| t.source == Source::Paper).count();
    assert!(own + paper >= 30, "pool has {} templates", own + paper);
    assert_eq!(paper, 2);
    assert!(pool.iter().any(|t| t.needs_reference()), "no pairwise template with a reference");
    assert!(pool.iter().filter(|t| !t.needs_reference()).count() >= 10);
    assert!(pool.iter().filter(|t| t.id.contains("criteria")).count() >= 5);
    assert!(pool.iter().filter(|t| t.id.contains("plain")).count() >= 5);
    let formats: BTreeSet<String> = pool.iter().map(|t| format!("{:?}", t.format)).collect();
    assert!(formats.len() >= 3, "formats used: {formats:?}");
    let expert = templates::get("paper/table7-expert").expect("paper template 2");
    assert!(expert.text.starts_with("As an expert, you are asked to evaluate two responses"));
}

#[test]
fn templates_benchmark_prompts_declare_their_formats() {
    let want = [
        ("bench/llava-wild", OutputFormat::LlavaWild),
        ("bench/llava-wilder", OutputFormat::LlavaWilder),
        ("bench/mmhal", OutputFormat::MmHal),
        ("bench/mmvet", OutputFormat::MmVet),
        ("bench/wildvision", OutputFormat::WildVision),
        ("bench/refomb", OutputFormat::RefoMb),
        ("bench/detailed-caption", OutputFormat::DetailedCaption),
    ];
    assert_eq!(templates::benchmark_prompts().len(), want.len());
    for (id, format) in want {
        let t = templates::get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(t.format, format, "{id}");
        assert_eq!(t.mode, Mode::Pointwise, "{id} judges one response");
    }
    assert!(
        templates::get("bench/llava-wilder")
            .is_some_and(|t| t.text.contains("Assume assistant 1 always receives a score of 10"))
    );
}

#[test]
fn templates_render_every_template_and_match_declared_mode() {
    let all = Fields {
        question: Some("QUESTION"),
        response1: Some("ONE"),
        response2: Some("TWO"),
        response: Some("SINGLE"),
        reference: Some("REFERENCE"),
    };
    for t in templates::all() {
        let text = t.render(&all).unwrap_or_else(|e| panic!("{}: {e}", t.id));
        assert!(!text.contains("{question}") && !text.contains("{response"), "{}: unfilled placeholder", t.id);
        let fields = t.fields();
        assert!(fields.contains(&Field::Question), "{} has no question", t.id);
        match t.mode {
            Mode::Pairwise => {
                assert!(fields.contains(&Field::Response1) && fields.contains(&Field::Response2), "{}", t.id);
                assert!(!fields.contains(&Field::Response), "{}", t.id);
                assert_eq!(t.format.mode(), Mode::Pairwise, "{}: a pairwise template needs a pairwise format", t.id);
            }
            Mode::Pointwise => {
                assert!(fields.contains(&Field::Response), "{}", t.id);
                assert!(!fields.contains(&Field::Response1), "{}", t.id);
            }
        }
    }
}

#[test]
fn templates_missing_field_is_named() {
    let err = templates::CRITIC_PAIRWISE.render(&Fields::pointwise("Q", "R")).expect_err("no response1");
    assert_eq!(err, RenderError::MissingField { template: "llava-critic/pairwise".into(), field: Field::Response1 });
    assert!(err.to_string().contains("response1"));
    let with_ref = templates::get("pool/ref-plain").expect("pool/ref-plain");
    let err = with_ref.render(&Fields::pairwise("Q", "A", "B")).expect_err("no reference");
    assert!(err.to_string().contains("`reference`"), "{err}");
    assert!(with_ref.render(&Fields::pairwise("Q", "A", "B").with_reference("REF")).is_ok());
}

#[test]
fn templates_unknown_placeholders_and_literal_braces() {
    let err = render_text("custom", "Q: {questoin}", &Fields::pointwise("Q", "R")).expect_err("typo");
    assert_eq!(err, RenderError::UnknownPlaceholder { template: "custom".into(), name: "questoin".into() });
    // braces that are not placeholders stay; values are not rescanned
    let out = render_text("custom", "{ } {JSON} {question}", &Fields::pointwise("{reference}", "R")).expect("renders");
    assert_eq!(out, "{ } {JSON} {reference}");
}
