//! Saving in the Hugging Face layout (transformers loads it and computes the same logits) and loading
//! broken checkpoints (each failure names what is wrong).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use model::tch::{Device, Kind, Tensor};
use model::{Dtype, LoadOptions, ModelError, Qwen2ForCausalLM, StepInput, TextModel, positions_from_mask};

use crate::support::{TempDir, checkpoint, max_abs_diff_masked, reference_tensors, run_python, tensor};

const F32_CPU: LoadOptions = LoadOptions { dtype: Dtype::F32, device: Device::Cpu };

fn logits(model: &Qwen2ForCausalLM, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let positions = positions_from_mask(mask)?;
    Ok(model.forward(&StepInput { input_ids: ids, positions: &positions, attention_mask: mask }, None)?)
}

fn to_json_ids(t: &Tensor) -> Result<Vec<Vec<i64>>> {
    let rows = t.size()[0];
    (0..rows).map(|r| Ok(Vec::<i64>::try_from(&t.get(r))?)).collect()
}

#[test]
fn parity_saved_checkpoint_loads_in_transformers_with_same_logits() -> Result<()> {
    let refs = reference_tensors()?;
    let ids = tensor(&refs, "qwen2.left.input_ids")?;
    let mask = tensor(&refs, "qwen2.left.attention_mask")?;
    let tmp = TempDir::new("save")?;
    let mut saved = Vec::new();
    let mut ours = Vec::new();
    for name in ["qwen2", "qwen2-tied"] {
        let m = TextModel::load(&checkpoint(name), &F32_CPU)?;
        let out = tmp.0.join(name);
        m.save(&out)?;
        for f in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]
        {
            assert!(out.join(f).is_file(), "{name}: saved folder has {f}");
        }
        // our own loader reads it back bit for bit
        let back = TextModel::load(&out, &F32_CPU)?;
        assert_eq!(back.model.is_tied(), m.model.is_tied());
        let (a, b) = (logits(&m.model, ids, mask)?, logits(&back.model, ids, mask)?);
        assert_eq!(max_abs_diff_masked(&a, &b, mask)?, 0.0, "{name}: reloaded weights are identical");
        ours.push(a);
        saved.push(out);
    }
    let input = tmp.0.join("input.json");
    let json = serde_json::json!({"input_ids": to_json_ids(ids)?, "attention_mask": to_json_ids(mask)?});
    std::fs::write(&input, json.to_string())?;
    let output = tmp.0.join("logits.safetensors");
    let mut args: Vec<&Path> = vec![Path::new("logits"), &input, &output];
    args.extend(saved.iter().map(PathBuf::as_path));
    run_python(&args)?;
    let theirs: std::collections::HashMap<String, Tensor> = Tensor::read_safetensors(&output)?.into_iter().collect();
    for (i, a) in ours.iter().enumerate() {
        let b = theirs.get(&format!("logits.{i}")).context("transformers' logits")?;
        let d = max_abs_diff_masked(a, b, mask)?;
        assert!(d < 1e-4, "checkpoint {i}: transformers on the saved folder differs by {d:e}");
    }
    Ok(())
}

/// A copy of the `qwen2` fixture whose weights are rewritten by `edit`.
fn broken_copy(tag: &str, edit: impl FnOnce(&mut Vec<(String, Tensor)>)) -> Result<TempDir> {
    let tmp = TempDir::new(tag)?;
    let src = checkpoint("qwen2");
    for entry in std::fs::read_dir(&src)? {
        let entry = entry?;
        std::fs::copy(entry.path(), tmp.0.join(entry.file_name()))?;
    }
    let mut weights = Tensor::read_safetensors(src.join("model.safetensors"))?;
    edit(&mut weights);
    Tensor::write_safetensors(&weights, tmp.0.join("model.safetensors"))?;
    Ok(tmp)
}

fn load_err(dir: &Path) -> Result<ModelError> {
    match TextModel::load(dir, &F32_CPU) {
        Ok(_) => bail!("{} loaded, but it is broken", dir.display()),
        Err(e) => Ok(e),
    }
}

#[test]
fn missing_weight_is_named() -> Result<()> {
    let name = "model.layers.1.mlp.up_proj.weight";
    let dir = broken_copy("missing", |w| w.retain(|(n, _)| n != name))?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::MissingWeight { name: n, .. } if n == name), "{err}");
    assert!(err.to_string().contains(name));
    // an untied model without lm_head.weight is missing it (only a tied config may omit it)
    let dir = broken_copy("missing-head", |w| w.retain(|(n, _)| n != "lm_head.weight"))?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::MissingWeight { name, .. } if name == "lm_head.weight"), "{err}");
    Ok(())
}

#[test]
fn wrong_shape_is_named() -> Result<()> {
    let name = "model.layers.0.self_attn.k_proj.weight";
    let dir = broken_copy("shape", |w| {
        for (n, t) in w.iter_mut() {
            if n == name {
                *t = Tensor::zeros([3, 64], (Kind::Float, Device::Cpu));
            }
        }
    })?;
    let err = load_err(&dir.0)?;
    match &err {
        ModelError::WeightShape { name: n, expected, actual, .. } => {
            assert_eq!(n, name);
            assert_eq!(actual, &vec![3, 64]);
            assert_eq!(expected, &vec![32, 64], "2 kv heads x head_dim 16, hidden 64");
        }
        other => bail!("expected a shape error, got {other}"),
    }
    Ok(())
}

#[test]
fn unexpected_weight_is_named() -> Result<()> {
    let name = "model.layers.0.self_attn.rotary_emb.inv_freq";
    let dir =
        broken_copy("unexpected", |w| w.push((name.to_string(), Tensor::zeros([8], (Kind::Float, Device::Cpu)))))?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::UnexpectedWeight { name: n, .. } if n == name), "{err}");
    Ok(())
}

#[test]
fn missing_files_and_bad_configs_are_named() -> Result<()> {
    // no tokenizer
    let dir = broken_copy("no-tokenizer", |_| {})?;
    std::fs::remove_file(dir.0.join("tokenizer.json"))?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::MissingFile { path, .. } if path.ends_with("tokenizer.json")), "{err}");

    // no config
    let dir = broken_copy("no-config", |_| {})?;
    std::fs::remove_file(dir.0.join("config.json"))?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::MissingFile { path, .. } if path.ends_with("config.json")), "{err}");

    // truncated weights
    let dir = broken_copy("truncated", |_| {})?;
    let f = dir.0.join("model.safetensors");
    let bytes = std::fs::read(&f)?;
    std::fs::write(&f, &bytes[..bytes.len() / 2])?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::Safetensors { path, .. } if path == &f), "{err}");

    // RoPE scaling this runtime does not implement is refused, not ignored
    let dir = broken_copy("rope", |_| {})?;
    let cfg_path = dir.0.join("config.json");
    let mut cfg: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cfg_path)?)?;
    cfg["rope_parameters"] = serde_json::json!({"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0});
    std::fs::write(&cfg_path, cfg.to_string())?;
    let err = load_err(&dir.0)?;
    assert!(matches!(&err, ModelError::Unsupported { .. }) && err.to_string().contains("yarn"), "{err}");

    // a shard named by the index is missing
    let tmp = TempDir::new("shard")?;
    let src = checkpoint("qwen2-sharded");
    let mut removed = None;
    for entry in std::fs::read_dir(&src)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if removed.is_none() && name.starts_with("model-00002") {
            removed = Some(name);
            continue;
        }
        std::fs::copy(entry.path(), tmp.0.join(&name))?;
    }
    let removed = removed.context("the sharded fixture has a second shard")?;
    let err = load_err(&tmp.0)?;
    assert!(matches!(&err, ModelError::MissingFile { path, .. } if path.ends_with(&removed)), "{err}");
    Ok(())
}
