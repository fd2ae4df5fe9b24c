//! LLaVA-OneVision (model part): image features and logits versus transformers, given the processor's
//! pixel values (random here, with the tile count the processor makes for each image size).

use anyhow::{Context, Result};
use model::tch::{Device, Kind, Tensor};
use model::{Dtype, ImageInput, LlavaOnevision, LoadOptions, ModelError};

use crate::support::{llava_fixtures, max_abs_diff_masked};

fn refs() -> Result<(std::collections::HashMap<String, Tensor>, serde_json::Value)> {
    let dir = llava_fixtures();
    let tensors = Tensor::read_safetensors(dir.join("reference.safetensors"))?.into_iter().collect();
    let json = serde_json::from_str(&std::fs::read_to_string(dir.join("reference.json"))?)?;
    Ok((tensors, json))
}

fn sizes(r: &serde_json::Value) -> Result<Vec<[i64; 2]>> {
    r["sizes"]
        .as_array()
        .context("sizes")?
        .iter()
        .map(|s| Ok([s[0].as_i64().context("height")?, s[1].as_i64().context("width")?]))
        .collect()
}

fn max_abs(a: &Tensor, b: &Tensor) -> Result<f64> {
    anyhow::ensure!(a.size() == b.size(), "shapes {:?} vs {:?}", a.size(), b.size());
    Ok((a.to_kind(Kind::Float) - b.to_kind(Kind::Float)).abs().max().double_value(&[]))
}

#[test]
fn parity_llava_onevision_image_features_and_logits() -> Result<()> {
    let (t, r) = refs()?;
    let sizes = sizes(&r)?;
    let opts = LoadOptions { dtype: Dtype::F32, device: Device::Cpu };
    // anyres_max_9 keeps the unpadded grid; anyres_max_1 downscales it (bilinear) before the newlines;
    // patch7: tiles that are not a whole number of patches (the convolution drops the rest, as SigLIP-so400m's
    // 384 px tiles of 14 px patches do)
    for name in ["llava", "llava-max1", "llava-patch7"] {
        let model = LlavaOnevision::load(&llava_fixtures().join(name), &opts)?;
        let counts = r["models"][name]["feature_counts"].as_array().context("counts")?;
        for (i, size) in sizes.iter().enumerate() {
            let pv = t.get(&format!("{name}.{i}.pixel_values")).context("pixel values")?;
            assert_eq!(model.num_tiles(*size), pv.size()[0], "{name} {size:?}: tile count as transformers'");
            let got = model.image_features(&ImageInput::tiled(pv, *size))?;
            let want = t.get(&format!("{name}.{i}.features")).context("features")?;
            assert_eq!(Some(got.size()[0]), counts[i].as_i64(), "{name} {size:?}: image token count");
            let d = max_abs(&got, want)?;
            assert!(d < 1e-4, "{name} image {size:?}: max |feature diff| {d:e}");
        }
        let ids = t.get(&format!("{name}.input_ids")).context("ids")?;
        let mask = ids.ones_like();
        let pv = t.get(&format!("{name}.0.pixel_values")).context("pixel values")?;
        let logits = model.forward(ids, &mask, &[ImageInput::tiled(pv, sizes[0])])?;
        let want = t.get(&format!("{name}.logits")).context("logits")?;
        let d = max_abs_diff_masked(&logits, want, &mask)?;
        assert!(d < 1e-4, "{name}: max |logit diff| {d:e}");
        // an image whose features do not fill the image tokens is an error, as in transformers
        let wrong = ImageInput::tiled(&t[&format!("{name}.2.pixel_values")], sizes[2]);
        match model.forward(ids, &mask, &[wrong]) {
            Err(ModelError::Input(m)) => assert!(m.contains("do not match"), "{m}"),
            other => anyhow::bail!("expected a mismatch error, got {:?}", other.map(|t| t.size())),
        }
    }
    Ok(())
}

#[test]
fn parity_llava_onevision_preprocessing_matches_the_image_processor() -> Result<()> {
    let (t, r) = refs()?;
    let sizes = sizes(&r)?;
    let config = model::llava::LlavaOnevisionConfig::from_file(&llava_fixtures().join("llava").join("config.json"))?;
    let proc = model::llava::preprocess::ImageProcessorConfig::default();
    for (i, size) in sizes.iter().enumerate() {
        let image = model::llava::preprocess::load_image(&llava_fixtures().join(format!("image-{i}.png")))?;
        let (pixels, got_size) = model::llava::preprocess::preprocess(
            &image,
            &config.image_grid_pinpoints,
            config.vision.image_size,
            &proc,
        )?;
        assert_eq!(&got_size, size, "image {i}: (height, width)");
        let want = t.get(&format!("proc.{i}.pixel_values")).context("pixel values")?;
        let d = max_abs(&pixels, want)?;
        assert!(d < 1e-5, "image {i} {size:?}: max |pixel diff| {d:e}");
    }
    Ok(())
}
