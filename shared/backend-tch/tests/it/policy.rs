//! The tch policy's samples are `TextModel::generate_text` / `VisionModel::generate_text` run directly with
//! the request's settings, whatever batch the request is in and however its checkpoint is named.

use anyhow::Result;
use backend::{BackendError, GenerateRequest};
use model::llava::preprocess::load_image;
use model::{GenerateConfig, LoadOptions, Sampling, TextModel, VisionModel, VisionPrompt};
use serde_json::json;

use crate::support::{Backend, llava, qwen2};

fn request(question: &str, checkpoint: &str, samples: u32, seed: u64, temperature: f64) -> GenerateRequest {
    GenerateRequest {
        question: question.into(),
        image: None,
        checkpoint_uri: checkpoint.into(),
        samples,
        seed,
        temperature,
        top_p: 0.9,
        max_new_tokens: 8,
    }
}

/// The request's samples computed directly: its question alone, with its seed.
fn direct(model: &TextModel, r: &GenerateRequest) -> Result<Vec<String>> {
    let prompt = model.prompt_text(&[json!({"role": "user", "content": r.question})], &r.question)?;
    let sampling = if r.temperature == 0.0 {
        Sampling::Greedy
    } else {
        Sampling::Random { temperature: r.temperature, top_k: None, top_p: Some(r.top_p) }
    };
    let cfg = GenerateConfig {
        max_new_tokens: r.max_new_tokens as usize,
        sampling,
        stop_token_ids: model.stop_token_ids(),
        samples_per_prompt: r.samples as usize,
        seed: r.seed,
        prompt_seeds: None,
    };
    Ok(model.generate_text(&[prompt.as_str()], &cfg)?.remove(0).into_iter().map(|(text, _)| text).collect())
}

#[test]
fn backend_tch_policy_samples_are_the_text_models_greedy_and_seeded() -> Result<()> {
    // two prompts per forward pass, so the five requests of a setting span three passes
    let backend = Backend::new("policy-text", |c| c.generate_batch_size = 2)?;
    let folder = qwen2().display().to_string();
    let digest = backend.put_checkpoint(qwen2())?;
    let questions =
        ["What colour is the square?", "Count the circles.", "Is there a red triangle?", "Hi", "Describe it."];
    let mut requests = Vec::new();
    for (n, q) in questions.iter().enumerate() {
        requests.push(request(q, &folder, 2, 0, 0.0));
        // seeded, one seed per prompt and one shared by all (as a round's tasks have)
        requests.push(request(q, &folder, 3, 100 + n as u64, 0.9));
        requests.push(request(q, &digest, 3, 7, 1.0));
    }
    let got = backend.backends.policy.generate(&requests);
    let model = TextModel::load(qwen2(), &LoadOptions::default())?;
    let mut distinct = 0;
    for (r, g) in requests.iter().zip(&got) {
        let g = g.as_ref().map_err(|e| anyhow::anyhow!("{e}"))?;
        assert_eq!(g, &direct(&model, r)?, "{r:?}");
        assert_eq!(g.len(), r.samples as usize);
        assert!(g.iter().all(|s| !s.is_empty()), "{g:?}");
        distinct += usize::from(r.temperature > 0.0 && g.iter().any(|s| s != &g[0]));
    }
    assert!(distinct > 0, "sampled requests give different samples");
    // alone, a request gets the same samples as in the batch
    assert_eq!(backend.backends.policy.generate(&requests[4..5]), got[4..5].to_vec());
    // the `sha256:` checkpoint was fetched once into the work dir
    let hex = digest.trim_start_matches("sha256:");
    assert!(backend.root.join("work/checkpoints").join(hex).join("config.json").is_file());
    Ok(())
}

#[test]
fn backend_tch_policy_puts_the_image_before_the_question_on_a_vision_checkpoint() -> Result<()> {
    let backend = Backend::new("policy-vision", |_| ())?;
    let checkpoint = llava().join("llava-ov");
    let image_path = llava().join("image-0.png");
    let image = backend.put_image(std::fs::read(&image_path)?)?;
    let mut with_image = request("What is in the picture?", &checkpoint.display().to_string(), 2, 3, 0.0);
    with_image.image = Some(image);
    let text_only = request("Say something.", &checkpoint.display().to_string(), 2, 3, 0.8);
    let got = backend.backends.policy.generate(&[with_image.clone(), text_only.clone()]);

    let model = VisionModel::load(&checkpoint, &LoadOptions::default())?;
    let cfg = |r: &GenerateRequest, sampling| GenerateConfig {
        max_new_tokens: 8,
        sampling,
        stop_token_ids: model.stop_token_ids(),
        samples_per_prompt: 2,
        seed: r.seed,
        prompt_seeds: None,
    };
    let content = json!([{"type": "image"}, {"type": "text", "text": with_image.question}]);
    let prompt = model.prompt_text(&[json!({"role": "user", "content": content})], "")?;
    assert!(prompt.contains("<image>What is in the picture?"), "the template puts the image first: {prompt}");
    let images = [load_image(&image_path)?];
    let want = model.generate_text(&[VisionPrompt::new(&prompt, &images)], &cfg(&with_image, Sampling::Greedy))?;
    let want: Vec<String> = want[0].iter().map(|(t, _)| t.clone()).collect();
    assert!(want.iter().all(|w| !w.trim().is_empty()), "{want:?}");
    assert_eq!(got[0].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?, &want);

    let prompt = model.prompt_text(&[json!({"role": "user", "content": text_only.question})], "")?;
    let sampling = Sampling::Random { temperature: 0.8, top_k: None, top_p: Some(0.9) };
    let want = model.generate_text(&[VisionPrompt::new(&prompt, &[])], &cfg(&text_only, sampling))?;
    let want: Vec<String> = want[0].iter().map(|(t, _)| t.clone()).collect();
    assert_eq!(got[1].as_ref().map_err(|e| anyhow::anyhow!("{e}"))?, &want);
    Ok(())
}

#[test]
fn backend_tch_policy_bad_requests_fail_alone_and_name_the_problem() -> Result<()> {
    let backend = Backend::new("policy-bad", |_| ())?;
    let folder = qwen2().display().to_string();
    let good = request("Fine question", &folder, 2, 1, 0.7);
    let mut bad_top_p = good.clone();
    bad_top_p.top_p = 0.0;
    let mut image_on_text = good.clone();
    image_on_text.image = Some(backend.put_image(std::fs::read(llava().join("image-1.png"))?)?);
    let mut too_long = good.clone();
    too_long.max_new_tokens = 400; // the checkpoint's context is 256
    let missing = request("q", "/nonexistent/checkpoint", 1, 0, 0.0);
    let got = backend.backends.policy.generate(&[good, bad_top_p, image_on_text, too_long, missing]);
    assert!(got[0].is_ok(), "{:?}", got[0]);
    let permanent = |i: usize, needle: &str| match &got[i] {
        Err(BackendError::Permanent(m)) => assert!(m.contains(needle), "request {i}: {m}"),
        other => panic!("request {i}: expected a permanent error with `{needle}`, got {other:?}"),
    };
    permanent(1, "top_p");
    permanent(2, "text-only");
    permanent(3, "context of 256");
    permanent(4, "/nonexistent/checkpoint");
    Ok(())
}
