//! A checkpoint with everything needed to talk to it: model, tokenizer, chat template.

use std::path::Path;

use serde::Serialize;

use crate::chat::{ChatOptions, ChatTemplate};
use crate::error::Result;
use crate::generate::{Completion, GenerateConfig, generate};
use crate::logprobs::{ResponseLogprobs, ScoreRequest, response_logprobs};
use crate::options::LoadOptions;
use crate::qwen2::Qwen2ForCausalLM;
use crate::tokenizer::TextTokenizer;

pub struct TextModel {
    pub model: Qwen2ForCausalLM,
    pub tokenizer: TextTokenizer,
    /// `None` when the checkpoint has no chat template (a base model).
    pub chat_template: Option<ChatTemplate>,
}

impl TextModel {
    /// Loads `dir`: `config.json`, weights, `tokenizer.json` (required) and the chat template (optional).
    pub fn load(dir: &Path, opts: &LoadOptions) -> Result<Self> {
        let tokenizer = TextTokenizer::from_dir(dir)?;
        let model = Qwen2ForCausalLM::load(dir, opts)?;
        let chat_template = optional_chat_template(dir)?;
        Ok(TextModel { model, tokenizer, chat_template })
    }

    /// The prompt text for `messages` (the chat template with the generation prompt), or the text itself
    /// for a model without a template.
    pub fn prompt_text<M: Serialize>(&self, messages: &[M], plain: &str) -> Result<String> {
        match &self.chat_template {
            Some(t) => t.render(messages, &ChatOptions { add_generation_prompt: true, tools: None }),
            None => Ok(plain.to_string()),
        }
    }

    /// Stop tokens: the config's `eos_token_id`(s) and the tokenizer's EOS.
    pub fn stop_token_ids(&self) -> Vec<u32> {
        stop_token_ids(&self.model, &self.tokenizer)
    }

    pub fn generate_text(&self, prompts: &[&str], cfg: &GenerateConfig) -> Result<Vec<Vec<(String, Completion)>>> {
        let ids: Vec<Vec<u32>> = prompts.iter().map(|p| self.tokenizer.encode(p, false)).collect::<Result<_>>()?;
        let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
        decode_completions(&self.tokenizer, generate(&self.model, &refs, cfg)?)
    }

    /// Log-probability of `response` after `prompt` (texts, tokenised separately as DPO pipelines do).
    pub fn score_text(&self, pairs: &[(&str, &str)]) -> Result<Vec<ResponseLogprobs>> {
        let ids: Vec<(Vec<u32>, Vec<u32>)> = pairs
            .iter()
            .map(|(p, r)| Ok((self.tokenizer.encode(p, false)?, self.tokenizer.encode(r, false)?)))
            .collect::<Result<_>>()?;
        let reqs: Vec<ScoreRequest<'_>> = ids.iter().map(|(p, r)| ScoreRequest { prompt: p, response: r }).collect();
        response_logprobs(&self.model, &reqs)
    }

    pub fn save(&self, out: &Path) -> Result<()> {
        crate::save::save_pretrained(&self.model, out)
    }
}

/// The config's `eos_token_id`(s) and the tokenizer's EOS.
pub(crate) fn stop_token_ids(model: &Qwen2ForCausalLM, tokenizer: &TextTokenizer) -> Vec<u32> {
    let mut ids: Vec<u32> = model.config().eos_token_ids.iter().filter_map(|&i| u32::try_from(i).ok()).collect();
    if let Some(e) = tokenizer.eos_token_id()
        && !ids.contains(&e)
    {
        ids.push(e);
    }
    ids
}

/// The checkpoint's chat template, `None` for a base model without one.
pub(crate) fn optional_chat_template(dir: &Path) -> Result<Option<ChatTemplate>> {
    ChatTemplate::from_dir_optional(dir)
}

/// Each completion with its decoded text (special tokens skipped), `[prompt][sample]`.
pub(crate) fn decode_completions(
    tokenizer: &TextTokenizer,
    completions: Vec<Vec<Completion>>,
) -> Result<Vec<Vec<(String, Completion)>>> {
    completions
        .into_iter()
        .map(|samples| samples.into_iter().map(|c| Ok((tokenizer.decode(&c.tokens, true)?, c))).collect())
        .collect()
}
