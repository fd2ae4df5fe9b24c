//! LLaVA-OneVision end to end against transformers: the chat prompt, the processor's `<image>` and
//! `<video>` expansion (one tiled image, two untiled images, none, a 3-frame video), greedy generation with images alone and batched, shared
//! prefill for K samples, and images that must be refused.

use anyhow::{Context, Result};
use model::llava::preprocess::{decode_image, load_image};
use model::llava::tokens::image_token_count;
use model::tch::{Device, Tensor};
use model::{Dtype, GenerateConfig, LlavaOnevisionConfig, LoadOptions, Sampling, VisionModel, VisionPrompt};

use crate::support::{llava_fixtures, llava_generate_fixtures, u32s};

fn load() -> Result<(VisionModel, serde_json::Value)> {
    let dir = llava_generate_fixtures();
    let model = VisionModel::load(&dir.join("llava-ov"), &LoadOptions { dtype: Dtype::F32, device: Device::Cpu })?;
    let reference = serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json"))?)?;
    Ok((model, reference))
}

fn images_of(conv: &serde_json::Value) -> Result<Vec<Tensor>> {
    conv["images"]
        .as_array()
        .context("images")?
        .iter()
        .map(|i| load_image(&llava_generate_fixtures().join(format!("image-{}.png", i.as_u64().unwrap_or(99)))))
        .map(|r| r.map_err(anyhow::Error::from))
        .collect()
}

/// The conversation's video frames (`video-frame-N.png`), if it has a video.
fn videos_of(conv: &serde_json::Value, reference: &serde_json::Value) -> Result<Vec<Vec<Tensor>>> {
    if conv["video"] != true {
        return Ok(Vec::new());
    }
    let frames = reference["video_frames"].as_u64().context("video_frames")?;
    let dir = llava_generate_fixtures();
    Ok(vec![(0..frames).map(|k| load_image(&dir.join(format!("video-frame-{k}.png")))).collect::<model::Result<_>>()?])
}

#[test]
fn parity_llava_onevision_image_token_count_is_the_feature_count() -> Result<()> {
    let dir = llava_fixtures();
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json"))?)?;
    let sizes = reference["sizes"].as_array().context("sizes")?;
    for name in ["llava", "llava-max1"] {
        let config = LlavaOnevisionConfig::from_file(&dir.join(name).join("config.json"))?;
        let counts = reference["models"][name]["feature_counts"].as_array().context("counts")?;
        for (size, count) in sizes.iter().zip(counts) {
            let size = [size[0].as_i64().context("h")?, size[1].as_i64().context("w")?];
            let got = image_token_count(&config, size, false);
            assert_eq!(Some(got), count.as_i64(), "{name} {size:?}: tokens as transformers' features");
            assert_eq!(image_token_count(&config, size, true), 17, "{name}: an untiled image is 4x4 + newline");
        }
    }
    Ok(())
}

#[test]
fn parity_llava_onevision_processor_and_greedy_generation() -> Result<()> {
    let (model, reference) = load()?;
    let conversations = reference["conversations"].as_array().context("conversations")?;
    let cfg = GenerateConfig { max_new_tokens: 8, stop_token_ids: model.stop_token_ids(), ..Default::default() };
    let mut all_images = Vec::new();
    for conv in conversations {
        let name = conv["name"].as_str().context("name")?;
        let prompt = model.prompt_text(conv["messages"].as_array().context("messages")?, "")?;
        assert_eq!(Some(prompt.as_str()), conv["prompt"].as_str(), "{name}: chat prompt");
        let images = images_of(conv)?;
        let videos = videos_of(conv, &reference)?;
        let encoded = model.encode(&VisionPrompt { text: &prompt, images: &images, videos: &videos })?;
        assert_eq!(encoded.input_ids, u32s(&conv["input_ids"])?, "{name}: processor input_ids");
        if let Some(shape) = conv["pixel_shape"].as_array() {
            let tiles = shape[1].as_i64().context("tiles")?;
            for (pv, size, tiled) in &encoded.images {
                // a prompt with several images keeps each one's base tile (transformers pads them to the
                // largest tile count in the batch and then drops the padding)
                assert_eq!(pv.size()[0], if *tiled { tiles } else { 1 }, "{name}: tiles of {size:?}");
            }
            let sizes: Vec<[i64; 2]> = encoded.images.iter().map(|(_, s, _)| *s).collect();
            let want: Vec<[i64; 2]> = serde_json::from_value(conv["image_sizes"].clone())?;
            assert_eq!(sizes, want, "{name}: image sizes");
        }
        if let Some((frames, video)) = videos.first().zip(encoded.videos.first()) {
            assert_eq!(video.size()[0], frames.len() as i64, "{name}: one tile per frame");
        }
        let out = model.generate_text(&[VisionPrompt { text: &prompt, images: &images, videos: &videos }], &cfg)?;
        assert_eq!(out[0][0].1.tokens, u32s(&conv["greedy"])?, "{name}: greedy tokens alone");
        all_images.push((prompt, images, videos));
    }
    // all in one left-padded batch: each row's image and video features land in its own positions
    let prompts: Vec<VisionPrompt<'_>> =
        all_images.iter().map(|(text, images, videos)| VisionPrompt { text, images, videos }).collect();
    let batched = model.generate_text(&prompts, &cfg)?;
    for (conv, got) in conversations.iter().zip(&batched) {
        assert_eq!(got[0].1.tokens, u32s(&conv["greedy"])?, "{}: greedy tokens in a batch", conv["name"]);
    }
    Ok(())
}

#[test]
fn llava_onevision_k_samples_share_the_prefill_and_follow_the_seed() -> Result<()> {
    let (model, reference) = load()?;
    let conv = &reference["conversations"][0];
    let prompt = conv["prompt"].as_str().context("prompt")?;
    let images = images_of(conv)?;
    let prompts = [VisionPrompt::new(prompt, &images)];
    let greedy = GenerateConfig { max_new_tokens: 8, samples_per_prompt: 3, ..Default::default() };
    let out = model.generate_text(&prompts, &greedy)?;
    for sample in &out[0] {
        assert_eq!(sample.1.tokens, u32s(&conv["greedy"])?, "greedy samples from the shared prefill");
    }
    let sampled = GenerateConfig {
        max_new_tokens: 12,
        samples_per_prompt: 4,
        sampling: Sampling::Random { temperature: 1.5, top_k: None, top_p: None },
        seed: 7,
        ..Default::default()
    };
    let a = model.generate_text(&prompts, &sampled)?;
    let b = model.generate_text(&prompts, &sampled)?;
    let tokens = |o: &Vec<Vec<(String, model::Completion)>>| -> Vec<Vec<u32>> {
        o[0].iter().map(|(_, c)| c.tokens.clone()).collect()
    };
    assert_eq!(tokens(&a), tokens(&b), "the same seed gives the same samples");
    let distinct: std::collections::BTreeSet<Vec<u32>> = tokens(&a).into_iter().collect();
    assert!(distinct.len() > 1, "four samples at temperature 1.5 are not all equal: {distinct:?}");
    Ok(())
}

#[test]
fn llava_onevision_bad_images_and_placeholders_are_errors() -> Result<()> {
    let (model, reference) = load()?;
    let png = std::fs::read(llava_generate_fixtures().join("image-0.png"))?;
    let truncated = decode_image(&png[..png.len() / 2]).expect_err("a truncated PNG");
    assert!(truncated.to_string().contains("cannot decode"), "{truncated}");
    let garbage = decode_image(b"definitely not an image").expect_err("random bytes");
    assert!(garbage.to_string().contains("not an image"), "{garbage}");
    // a PNG header that declares 100000 x 100000 pixels: refused before any pixel is decoded
    let mut bomb = png.clone();
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let bomb = decode_image(&bomb).expect_err("a decompression bomb");
    assert!(bomb.to_string().contains("over the limit"), "{bomb}");

    let conv = &reference["conversations"][0];
    let prompt = conv["prompt"].as_str().context("prompt")?;
    let err = model.encode(&VisionPrompt::new(prompt, &[])).expect_err("a placeholder without image");
    assert!(err.to_string().contains("1 <image> placeholder(s) for 0 image(s)"), "{err}");
    Ok(())
}

#[test]
fn cli_generates_with_an_image_as_transformers_does() -> Result<()> {
    let (_, reference) = load()?;
    let conv = &reference["conversations"][0];
    let dir = llava_generate_fixtures();
    let checkpoint = dir.join("llava-ov");
    let image = dir.join("image-0.png");
    let args = [
        "generate",
        "--checkpoint",
        checkpoint.to_str().context("utf-8 path")?,
        "--image",
        image.to_str().context("utf-8 path")?,
        "--prompt",
        "Describe the image.",
        "--temperature",
        "0",
        "--max-new-tokens",
        "8",
    ];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_criticloop-model")).args(args).output()?;
    anyhow::ensure!(out.status.success(), "criticloop-model: {}", String::from_utf8_lossy(&out.stderr));
    let line: serde_json::Value = serde_json::from_str(String::from_utf8(out.stdout)?.trim())?;
    assert_eq!(line["tokens"], conv["greedy"], "the CLI's greedy tokens with an image");

    let broken = std::env::temp_dir().join(format!("criticloop-broken-{}.png", std::process::id()));
    std::fs::write(&broken, b"\x89PNG\r\n\x1a\n truncated")?;
    let mut bad = args.map(String::from);
    bad[4] = broken.display().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_criticloop-model")).args(&bad).output()?;
    let _ = std::fs::remove_file(&broken);
    assert!(!out.status.success(), "a broken image fails the command");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("criticloop-broken") && stderr.contains("image"), "the error names the file: {stderr}");
    Ok(())
}

/// PNG's chunk checksum (CRC-32, polynomial 0xEDB88320), so the forged header is a valid chunk.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[test]
fn parity_llava_onevision_saved_checkpoint_loads_in_transformers_with_the_same_logits() -> Result<()> {
    let (model, _) = load()?;
    let original = llava_generate_fixtures().join("llava-ov");
    // unique to this run: a folder left behind by an earlier process with the same pid is never reused
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos();
    let saved = std::env::temp_dir().join(format!("criticloop-llava-saved-{}-{nanos}", std::process::id()));
    model.save(&saved)?;
    // criticloop reads back what it wrote, strictly
    let reloaded = VisionModel::load(&saved, &LoadOptions { dtype: Dtype::F32, device: Device::Cpu })?;
    assert_eq!(reloaded.model.named_weights().len(), model.model.named_weights().len());
    let compared = model::fixtures::run(
        crate::support::LLAVA_GENERATE_SCRIPT,
        &[std::ffi::OsStr::new("compare"), original.as_os_str(), saved.as_os_str()],
    );
    let _ = std::fs::remove_dir_all(&saved);
    let stdout = compared.map_err(anyhow::Error::msg)?;
    let report: serde_json::Value = serde_json::from_str(stdout.lines().last().context("output")?)?;
    let diff = report["max_abs_logit_diff"].as_f64().context("max_abs_logit_diff")?;
    assert!(diff < 1e-6, "transformers' logits of the saved checkpoint differ by {diff:e}: {report}");
    assert_eq!(report["differing_weights"], serde_json::json!([]), "weights that differ after the round trip");
    Ok(())
}
