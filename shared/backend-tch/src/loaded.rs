//! Loaded checkpoints on the model thread: a Qwen2 text model or a LLaVA-OneVision vision model
//! (by `config.json`'s `model_type`), kept in a small least-recently-used cache keyed by the local folder,
//! so a checkpoint named by `sha256:` and by its folder is loaded once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use backend::BackendError;
use model::tch::Tensor;
use model::{GenerateConfig, LoadOptions, TextModel, VisionModel, VisionPrompt};
use serde_json::{Value, json};

use crate::trainer::model_error;

/// Boxed: a model's handles are large, and the cache moves entries.
pub enum Loaded {
    Text(Box<TextModel>),
    Vision(Box<VisionModel>),
}

/// One prompt to generate from: the user message's text and the image it shows, if any.
pub struct Turn {
    pub text: String,
    pub image: Option<Tensor>,
}

impl Loaded {
    /// `qwen2` or `llava_onevision`, as `config.json` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Loaded::Text(_) => "qwen2",
            Loaded::Vision(_) => "llava_onevision",
        }
    }

    pub fn stop_token_ids(&self) -> Vec<u32> {
        match self {
            Loaded::Text(m) => m.stop_token_ids(),
            Loaded::Vision(m) => m.stop_token_ids(),
        }
    }

    fn context(&self) -> usize {
        let config = match self {
            Loaded::Text(m) => m.model.config(),
            Loaded::Vision(m) => m.model.language_model().config(),
        };
        usize::try_from(config.max_position_embeddings).unwrap_or(usize::MAX)
    }

    /// The prompt text of a one-turn chat: the user message (with the image before the text, as a
    /// `[{"type": "image"}, {"type": "text", ...}]` content list, when there is one) and the generation
    /// prompt; for a checkpoint without a chat template, the text itself (after `<image>\n`).
    pub fn render(&self, turn: &Turn) -> Result<String, String> {
        let rendered = match (self, &turn.image) {
            (Loaded::Text(_), Some(_)) => {
                return Err("the checkpoint is text-only (qwen2) and cannot take the image".into());
            }
            (Loaded::Text(m), None) => m.prompt_text(&[json!({"role": "user", "content": turn.text})], &turn.text),
            (Loaded::Vision(m), None) => m.prompt_text(&[json!({"role": "user", "content": turn.text})], &turn.text),
            (Loaded::Vision(m), Some(_)) => {
                let content = json!([{"type": "image"}, {"type": "text", "text": turn.text}]);
                m.prompt_text(&[json!({"role": "user", "content": content})], &format!("<image>\n{}", turn.text))
            }
        };
        rendered.map_err(|e| format!("rendering the chat template: {e}"))
    }

    /// The prompt's length in tokens, `<image>` expanded.
    fn prompt_tokens(&self, text: &str, image: Option<&Tensor>) -> model::Result<usize> {
        match self {
            Loaded::Text(m) => Ok(m.tokenizer.encode(text, false)?.len()),
            Loaded::Vision(m) => {
                let images: Vec<Tensor> = image.map(Tensor::shallow_clone).into_iter().collect();
                Ok(m.encode(&VisionPrompt::new(text, &images))?.input_ids.len())
            }
        }
    }

    /// Checks that `text` and `cfg.max_new_tokens` fit the checkpoint's context.
    pub fn check_length(&self, text: &str, image: Option<&Tensor>, cfg: &GenerateConfig) -> Result<(), String> {
        let tokens = self.prompt_tokens(text, image).map_err(|e| format!("encoding the prompt: {e}"))?;
        let context = self.context();
        if tokens + cfg.max_new_tokens > context {
            return Err(format!(
                "the prompt has {tokens} tokens; with max_new_tokens {} that is over the checkpoint's context of \
                 {context}",
                cfg.max_new_tokens
            ));
        }
        Ok(())
    }

    /// `[prompt][sample]` decoded texts for the rendered `prompts` and their images.
    pub fn generate(
        &self,
        prompts: &[(&str, Option<&Tensor>)],
        cfg: &GenerateConfig,
    ) -> model::Result<Vec<Vec<String>>> {
        let out = match self {
            Loaded::Text(m) => {
                let texts: Vec<&str> = prompts.iter().map(|p| p.0).collect();
                m.generate_text(&texts, cfg)?
            }
            Loaded::Vision(m) => {
                let images: Vec<Vec<Tensor>> =
                    prompts.iter().map(|p| p.1.map(Tensor::shallow_clone).into_iter().collect()).collect();
                let vision: Vec<VisionPrompt<'_>> =
                    prompts.iter().zip(&images).map(|(p, i)| VisionPrompt::new(p.0, i)).collect();
                m.generate_text(&vision, cfg)?
            }
        };
        Ok(out.into_iter().map(|samples| samples.into_iter().map(|(text, _)| text).collect()).collect())
    }
}

pub struct ModelCache {
    load: LoadOptions,
    capacity: usize,
    /// Least recently used first.
    entries: Vec<(PathBuf, Loaded)>,
}

impl ModelCache {
    pub fn new(load: LoadOptions, capacity: usize) -> Self {
        ModelCache { load, capacity: capacity.max(1), entries: Vec::new() }
    }

    /// The model of the checkpoint folder `dir` (named `uri` in errors), loading it if needed.
    pub fn get(&mut self, dir: &Path, uri: &str) -> Result<&Loaded, BackendError> {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        if let Some(i) = self.entries.iter().position(|(k, _)| *k == key) {
            let entry = self.entries.remove(i);
            self.entries.push(entry);
        } else {
            // make room first: never more than `capacity` models in memory, the new one included
            while self.entries.len() >= self.capacity {
                let (old, _) = self.entries.remove(0);
                tracing::info!(checkpoint = %old.display(), "model evicted");
            }
            let loaded = self.load(&key, uri)?;
            self.entries.push((key, loaded));
        }
        let (_, loaded) = self.entries.last().expect("the entry was just pushed");
        Ok(loaded)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn load(&self, dir: &Path, uri: &str) -> Result<Loaded, BackendError> {
        let span = tracing::info_span!("model.load", checkpoint = %uri, dir = %dir.display());
        let _entered = span.enter();
        let started = Instant::now();
        let context = |what: &str| format!("checkpoint `{uri}`: {what}");
        let path = dir.join("config.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| BackendError::Transient(context(&format!("reading {}: {e}", path.display()))))?;
        let config: Value = serde_json::from_str(&text)
            .map_err(|e| BackendError::Permanent(context(&format!("config.json is not JSON: {e}"))))?;
        let loaded = match config["model_type"].as_str() {
            Some("qwen2") => Loaded::Text(Box::new(
                TextModel::load(dir, &self.load).map_err(|e| model_error(&context("loading"), e))?,
            )),
            Some("llava_onevision") => Loaded::Vision(Box::new(
                VisionModel::load(dir, &self.load).map_err(|e| model_error(&context("loading"), e))?,
            )),
            other => {
                return Err(BackendError::Permanent(context(&format!(
                    "config.json's model_type {other:?} is not one the tch backend runs (qwen2, llava_onevision)"
                ))));
            }
        };
        tracing::info!(kind = loaded.kind(), seconds = started.elapsed().as_secs_f64(), "model loaded");
        Ok(loaded)
    }
}
