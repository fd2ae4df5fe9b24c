//! `dpo_badpairs_*`: malformed pairs are reported with their ids and reasons, and the rest train.

use anyhow::Result;
use model::LoadOptions;
use train::{BadPairReason, DpoConfig, DpoTrainer};

use crate::parity::{TEXT_PAIRS, base_config, tokenize};
use crate::support::checkpoint;

const MAX_LENGTH: usize = 48;

fn bad_lines() -> String {
    let long = "The quick brown fox jumps over the lazy dog. ".repeat(6);
    [
        r#"{"id": "empty-chosen", "prompt": "A critic model", "chosen": "", "rejected": " no."}"#.to_string(),
        r#"{"id": "blank-rejected", "prompt": "A critic model", "chosen": " yes.", "rejected": "   "}"#.to_string(),
        r#"{"id": "no-rejected", "prompt": "A critic model", "chosen": " yes."}"#.to_string(),
        r#"{"id": "no-prompt", "chosen": " yes.", "rejected": " no."}"#.to_string(),
        format!(r#"{{"id": "too-long", "prompt": "A critic model", "chosen": "{long}", "rejected": " no."}}"#),
        r#"{"id": "mixed", "prompt": "A critic model", "chosen": [{"role": "assistant", "content": "x"}], "rejected": " no."}"#
            .to_string(),
        r#"{"id": 7, "prompt": "A critic model", "chosen": " yes.", "rejected": null}"#.to_string(),
        r#"{"id": "fox", "prompt": "again", "chosen": " a", "rejected": " b"}"#.to_string(),
        r#"{"id": "broken", "prompt": "#.to_string(),
        "[1, 2]".to_string(),
    ]
    .join("\n")
}

#[test]
fn dpo_badpairs_reported_by_id_and_the_rest_train() -> Result<()> {
    let dir = checkpoint("qwen2");
    let text = format!("{TEXT_PAIRS}\n{}\n", bad_lines());
    let set = tokenize(&dir, &text, MAX_LENGTH)?;

    let good: Vec<&str> = set.pairs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(good, ["fox", "critic", "judge", "qwen"], "the well-formed pairs survive, in file order");
    let bad: Vec<(&str, usize, &BadPairReason)> = set.bad.iter().map(|b| (b.id.as_str(), b.line, &b.reason)).collect();
    let first_bad_line = TEXT_PAIRS.lines().count() + 2; // one blank line between the two parts
    let expected: Vec<(&str, BadPairReason)> = vec![
        ("empty-chosen", BadPairReason::Empty("chosen")),
        ("blank-rejected", BadPairReason::Empty("rejected")),
        ("no-rejected", BadPairReason::MissingField("rejected")),
        ("no-prompt", BadPairReason::MissingField("prompt")),
        ("too-long", BadPairReason::TooLong { field: "chosen", len: 0, max: MAX_LENGTH }),
        ("mixed", BadPairReason::WrongType("chosen")),
        ("7", BadPairReason::MissingField("rejected")),
        ("fox", BadPairReason::DuplicateId),
    ];
    assert_eq!(bad.len(), expected.len() + 2, "{:#?}", set.bad);
    for (i, ((id, line, reason), (want_id, want))) in bad.iter().zip(&expected).enumerate() {
        assert_eq!(*id, *want_id);
        assert_eq!(*line, first_bad_line + i, "{id}: line number");
        match (reason, want) {
            (BadPairReason::TooLong { field, len, max }, BadPairReason::TooLong { field: f, max: m, .. }) => {
                assert_eq!((field, max), (f, m));
                assert!(*len > MAX_LENGTH, "{id}: reported length {len}");
            }
            _ => assert_eq!(*reason, want, "{id}"),
        }
    }
    // lines that are not JSON objects have no id: they are named by line
    for (b, line) in set.bad[expected.len()..].iter().zip([first_bad_line + 8, first_bad_line + 9]) {
        assert_eq!(b.id, format!("line {line}"));
        assert!(matches!(b.reason, BadPairReason::NotJson(_)), "{b}");
    }
    // the message names the pair
    assert!(set.bad[0].to_string().contains("`empty-chosen`"), "{}", set.bad[0]);

    let cfg = DpoConfig { max_steps: Some(2), max_length: MAX_LENGTH, ..base_config() };
    let mut trainer = DpoTrainer::new(&dir, set.pairs, cfg, &LoadOptions::default())?;
    let mut losses = Vec::new();
    trainer.train(None, |m| losses.push(m.pairs.loss))?;
    assert_eq!(losses.len(), 2);
    assert!((losses[0] - std::f64::consts::LN_2).abs() < 1e-6, "first loss is log 2: {}", losses[0]);
    assert!(losses[1].is_finite() && losses[1] != losses[0], "training moved: {losses:?}");
    Ok(())
}

/// Pairs with images: a missing or corrupt image, and images for a text-only checkpoint, are reported by
/// id; the good pairs (tokenised for the LLaVA-OneVision) survive.
#[test]
fn dpo_badpairs_images_missing_corrupt_or_on_a_text_model() -> Result<()> {
    let good = crate::parity::VISION_PAIRS;
    let bad = [
        r#"{"id": "missing", "images": ["no-such.png"], "prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}"#,
        r#"{"id": "corrupt", "images": ["reference.json"], "prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}"#,
        r#"{"id": "not-a-list", "images": "image-0.png", "prompt": [{"role": "user", "content": "Hi"}], "chosen": [{"role": "assistant", "content": "a"}], "rejected": [{"role": "assistant", "content": "b"}]}"#,
    ]
    .join("\n");
    let set = tokenize(&checkpoint("llava-ov"), &format!("{good}{bad}\n"), 1024)?;
    let kept: Vec<&str> = set.pairs.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(kept, ["v1", "v2", "v3"]);
    assert_eq!(set.pairs[2].images.len(), 2, "both images of v3 are kept");
    let reasons: Vec<(&str, String)> = set.bad.iter().map(|b| (b.id.as_str(), b.reason.to_string())).collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons[0].0 == "missing" && reasons[0].1.contains("image `no-such.png`"), "{reasons:?}");
    assert!(reasons[1].0 == "corrupt" && reasons[1].1.contains("image `reference.json`"), "{reasons:?}");
    assert_eq!(set.bad[2].id, "not-a-list");
    assert_eq!(set.bad[2].reason, BadPairReason::ImagesNotAList);

    // the same pairs for a text-only checkpoint: every pair with images is bad, saying why
    let set = tokenize(&checkpoint("qwen2"), good, 1024)?;
    assert!(set.pairs.is_empty());
    assert!(set.bad.iter().all(|b| b.reason == BadPairReason::ImagesOnTextModel), "{:?}", set.bad);
    Ok(())
}
