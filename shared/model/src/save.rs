//! Saving Qwen2 and LLaVA-OneVision in the Hugging Face layout: `config.json` (the loaded file with its
//! `dtype` updated), `model.safetensors` (with the `{"format": "pt"}` metadata transformers checks), and
//! the tokenizer, processor and generation files copied from the source checkpoint.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use safetensors::Dtype as StDtype;
use safetensors::tensor::View;
use tch::{Device, Kind, Tensor};

use crate::error::{ModelError, Result, io_err};
use crate::llava::LlavaOnevision;
use crate::qwen2::Qwen2ForCausalLM;

/// Files copied beside the weights when they exist in the source checkpoint.
pub const COPIED_FILES: &[&str] = &[
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "vocab.json",
    "merges.txt",
    "added_tokens.json",
    "processor_config.json",
    "preprocessor_config.json",
    "video_preprocessor_config.json",
];

struct HostTensor {
    dtype: StDtype,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl View for &HostTensor {
    fn dtype(&self) -> StDtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.data)
    }
    fn data_len(&self) -> usize {
        self.data.len()
    }
}

fn host(name: &str, t: &Tensor) -> Result<HostTensor> {
    let t = t.f_to_device(Device::Cpu)?.f_contiguous()?;
    let dtype = match t.kind() {
        Kind::Float => StDtype::F32,
        Kind::BFloat16 => StDtype::BF16,
        Kind::Half => StDtype::F16,
        other => return Err(ModelError::Input(format!("weight `{name}` has kind {other:?}, not a float type"))),
    };
    let numel = t.numel();
    let mut data = vec![0u8; numel * t.kind().elt_size_in_bytes()];
    t.f_copy_data_u8(&mut data, numel)?;
    Ok(HostTensor { dtype, shape: t.size().iter().map(|&d| d as usize).collect(), data })
}

/// Writes `model` to `out` (created if needed) so that transformers' `from_pretrained(out)` loads it.
pub fn save_pretrained(model: &Qwen2ForCausalLM, out: &Path) -> Result<()> {
    let mut config = model.config().raw.clone();
    if let Some(obj) = config.as_object_mut() {
        obj.insert("tie_word_embeddings".into(), model.is_tied().into());
    }
    write_checkpoint(config, model.dtype(), model.named_weights(), model.dir(), out)
}

/// Writes a LLaVA-OneVision `model` to `out` in the layout transformers 5 saves (and loads).
pub fn save_llava_pretrained(model: &LlavaOnevision, out: &Path) -> Result<()> {
    let lm = model.language_model();
    write_checkpoint(model.config().raw.clone(), lm.dtype(), model.named_weights(), lm.dir(), out)
}

/// `config.json` (with its `dtype` set), `model.safetensors` and the tokenizer, processor and generation
/// files of `src`.
fn write_checkpoint(
    mut config: serde_json::Value,
    dtype: crate::Dtype,
    weights: Vec<(String, &Tensor)>,
    src: &Path,
    out: &Path,
) -> Result<()> {
    std::fs::create_dir_all(out).map_err(io_err(out))?;
    if let Some(obj) = config.as_object_mut() {
        obj.insert("dtype".into(), dtype.hf_name().into());
        obj.remove("torch_dtype");
    }
    let config_path = out.join("config.json");
    let text = serde_json::to_string_pretty(&config)
        .map_err(|source| ModelError::Json { path: config_path.clone(), source })?;
    std::fs::write(&config_path, text + "\n").map_err(io_err(&config_path))?;

    let tensors: Vec<(String, HostTensor)> =
        weights.into_iter().map(|(n, t)| Ok((n.clone(), host(&n, t)?))).collect::<Result<_>>()?;
    let weights_path = out.join(crate::weights::SINGLE_FILE);
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(tensors.iter().map(|(n, t)| (n.as_str(), t)), Some(metadata), &weights_path)
        .map_err(|e| ModelError::Safetensors { path: weights_path.clone(), message: e.to_string() })?;
    // a stale index from an earlier sharded save would shadow the single file
    let index = out.join(crate::weights::INDEX_FILE);
    if index.exists() {
        std::fs::remove_file(&index).map_err(io_err(&index))?;
    }
    if src != out {
        for name in COPIED_FILES {
            let from = src.join(name);
            if from.is_file() {
                std::fs::copy(&from, out.join(name)).map_err(io_err(&from))?;
            }
        }
    }
    Ok(())
}
