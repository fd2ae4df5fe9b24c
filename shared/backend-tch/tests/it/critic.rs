//! The tch critic's text is `VisionModel::generate_text` run directly (greedy, the image before the
//! prompt); a missing or corrupt image fails its item only, naming it.

use anyhow::Result;
use backend::{BackendError, JudgeRequest};
use model::llava::preprocess::load_image;
use model::{GenerateConfig, LoadOptions, TextModel, VisionModel, VisionPrompt};
use serde_json::json;

use crate::support::{Backend, llava, qwen2};

const PROMPT: &str = "Which response is better, and why?\n[Response 1] a red square\n[Response 2] a blue circle";

fn judge(prompt: &str, image: Option<String>, critic: &str) -> JudgeRequest {
    JudgeRequest {
        prompt: prompt.into(),
        question: "What is in the picture?".into(),
        image,
        first: "a red square".into(),
        second: Some("a blue circle".into()),
        critic_uri: critic.into(),
        format: critic::OutputFormat::CriticPairwise,
        truth: None,
    }
}

#[test]
fn backend_tch_critic_with_an_image_is_the_vision_models_greedy_text() -> Result<()> {
    let backend = Backend::new("critic-vision", |c| {
        c.critic_max_new_tokens = 12;
        c.judge_batch_size = 2;
    })?;
    let checkpoint = llava().join("llava-ov");
    let critic = backend.put_checkpoint(&checkpoint)?;
    let paths = [llava().join("image-0.png"), llava().join("image-2.png")];
    let refs: Vec<String> = paths.iter().map(|p| backend.put_image(std::fs::read(p)?)).collect::<Result<_>>()?;
    // LLaVA-Critic's prompts start with `<image>\n`; the template puts the image there itself
    let requests = vec![
        judge(&format!("<image>\n{PROMPT}"), Some(refs[0].clone()), &critic),
        judge(PROMPT, Some(refs[1].clone()), &critic),
        judge(&format!("<image>\n{PROMPT}"), None, &critic),
    ];
    let got = backend.backends.critic.judge(&requests);

    let model = VisionModel::load(&checkpoint, &LoadOptions::default())?;
    let cfg = GenerateConfig { max_new_tokens: 12, stop_token_ids: model.stop_token_ids(), ..Default::default() };
    let with_image = [json!({"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]})];
    let prompt = model.prompt_text(&with_image, "")?;
    for (n, path) in paths.iter().enumerate() {
        let images = [load_image(path)?];
        let want = model.generate_text(&[VisionPrompt::new(&prompt, &images)], &cfg)?.remove(0).remove(0).0;
        assert!(!want.trim().is_empty(), "the tiny critic says something");
        assert_eq!(got[n].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?, &want, "request {n}");
    }
    let plain = model.prompt_text(&[json!({"role": "user", "content": PROMPT})], "")?;
    let want = model.generate_text(&[VisionPrompt::new(&plain, &[])], &cfg)?.remove(0).remove(0).0;
    assert_eq!(got[2].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?, &want, "without an image");
    Ok(())
}

#[test]
fn backend_tch_critic_text_only_checkpoint_is_the_text_models_greedy_text() -> Result<()> {
    let backend = Backend::new("critic-text", |c| c.critic_max_new_tokens = 10)?;
    let folder = qwen2().display().to_string();
    let got = backend.backends.critic.judge(&[judge(&format!("<image>\n{PROMPT}"), None, &folder)]);
    let model = TextModel::load(qwen2(), &LoadOptions::default())?;
    let prompt = model.prompt_text(&[json!({"role": "user", "content": PROMPT})], PROMPT)?;
    let cfg = GenerateConfig { max_new_tokens: 10, stop_token_ids: model.stop_token_ids(), ..Default::default() };
    let want = model.generate_text(&[prompt.as_str()], &cfg)?.remove(0).remove(0).0;
    assert_eq!(got[0].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?, &want);
    Ok(())
}

#[test]
fn backend_tch_critic_missing_or_corrupt_image_fails_its_item_only_and_names_it() -> Result<()> {
    let backend = Backend::new("critic-bad", |c| c.critic_max_new_tokens = 4)?;
    let critic = llava().join("llava-ov").display().to_string();
    let good = backend.put_image(std::fs::read(llava().join("image-1.png"))?)?;
    let corrupt = backend.put_image(b"\x89PNG\r\n\x1a\n this is not the rest of a PNG".to_vec())?;
    let missing = format!("sha256:{}", "ab".repeat(32));
    let requests = vec![
        judge(PROMPT, Some(good), &critic),
        judge(PROMPT, Some(corrupt.clone()), &critic),
        judge(PROMPT, Some(missing.clone()), &critic),
        judge(PROMPT, Some("/nonexistent/image.png".into()), &critic),
    ];
    let got = backend.backends.critic.judge(&requests);
    assert!(got[0].is_ok(), "the good item is judged: {:?}", got[0]);
    for (n, name) in [(1, &corrupt), (2, &missing), (3, &"/nonexistent/image.png".to_string())] {
        match &got[n] {
            Err(BackendError::Permanent(m)) => assert!(m.contains(name.as_str()) && m.contains("image"), "{m}"),
            other => panic!("item {n}: expected a permanent error naming {name}, got {other:?}"),
        }
    }
    Ok(())
}
