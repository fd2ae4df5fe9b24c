//! Preference pairs in TRL's format (`{"id"?, "prompt", "chosen", "rejected"}` per JSONL line), tokenised
//! exactly as TRL's `DPOTrainer._prepare_dataset` does, with malformed pairs reported by id instead of
//! stopping the run.
//!
//! TRL's rules, followed here:
//! - plain text: the EOS token text is appended to `chosen` and `rejected` unless they already end with it;
//!   `prompt`, `prompt + chosen` and `prompt + rejected` are encoded as strings with special tokens
//!   (`tokenizer(text)`);
//! - conversational (lists of `{"role", "content"}` messages): the chat template renders `prompt` with the
//!   generation prompt, and `prompt + chosen` / `prompt + rejected` without it; the texts are encoded without
//!   special tokens (`apply_chat_template(tokenize=True)`);
//! - the completion starts where the prompt ids and both full sequences stop agreeing (`common_prefix_length`).
//!
//! Where TRL silently truncates (`max_length`, `keep_start`) or drops examples, criticloop reports the pair
//! as [`BadPairReason::TooLong`] and trains on the rest.

use std::collections::HashSet;
use std::path::Path;

use model::{ChatOptions, ChatTemplate, TextTokenizer};
use serde_json::Value;

use crate::error::{Result, TrainError, io_err};
use crate::vision_pairs::{PairImage, VisionPairs, image_refs, load_images};

/// One usable pair, as token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenizedPair {
    pub id: String,
    pub prompt: Vec<u32>,
    pub chosen: Vec<u32>,
    pub rejected: Vec<u32>,
    /// The prompt's images (LLaVA-OneVision policies), in the order of its `<image>` placeholders.
    pub images: Vec<PairImage>,
}

impl TokenizedPair {
    /// The longer of `prompt + chosen` and `prompt + rejected`, in tokens.
    pub fn max_len(&self) -> usize {
        self.prompt.len() + self.chosen.len().max(self.rejected.len())
    }
}

/// A pair that cannot be trained on, with the id it was given (or `line N` when it has none).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("pair `{id}` (line {line}): {reason}")]
pub struct BadPair {
    pub id: String,
    pub line: usize,
    pub reason: BadPairReason,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BadPairReason {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("field `{0}` must be a string or a list of messages, like the other fields")]
    WrongType(&'static str),
    #[error("field `{0}` is empty")]
    Empty(&'static str),
    #[error("prompt + {field} is {len} tokens, longer than the context of {max}")]
    TooLong { field: &'static str, len: usize, max: usize },
    #[error("the response adds no token after the prompt in `{0}`")]
    NoCompletion(&'static str),
    #[error("conversational pair, but the checkpoint has no chat template")]
    NoChatTemplate,
    #[error("tokenising: {0}")]
    Tokenize(String),
    #[error("id used by an earlier pair")]
    DuplicateId,
    #[error("field `images` must be a list of image references (or `image` one reference)")]
    ImagesNotAList,
    #[error("the pair has images, but the checkpoint is text-only")]
    ImagesOnTextModel,
    #[error("image `{reference}`: {message}")]
    Image { reference: String, message: String },
}

/// Everything read from a pair file: the pairs to train on, in file order, and the rejected ones.
#[derive(Debug, Clone, Default)]
pub struct PairSet {
    pub pairs: Vec<TokenizedPair>,
    pub bad: Vec<BadPair>,
}

/// How pairs are tokenised.
pub struct PairTokenizer<'a> {
    pub tokenizer: &'a TextTokenizer,
    pub chat_template: Option<&'a ChatTemplate>,
    /// Longest allowed `prompt + response`, in tokens.
    pub max_length: usize,
    /// Set for a LLaVA-OneVision checkpoint: pairs with `images` (or `image`) are tokenised as TRL's vision
    /// collator does ([`crate::vision_pairs`]); without it such pairs are reported bad.
    pub vision: Option<VisionPairs<'a>>,
}

const FIELDS: [&str; 3] = ["prompt", "chosen", "rejected"];

impl PairTokenizer<'_> {
    /// Reads a JSONL file (blank lines are skipped).
    pub fn read_jsonl(&self, path: &Path) -> Result<PairSet> {
        let text = std::fs::read_to_string(path).map_err(io_err(path))?;
        let set = self.parse_jsonl(&text);
        if set.pairs.is_empty() {
            return Err(TrainError::NoPairs { path: path.to_path_buf(), bad: set.bad.len() });
        }
        Ok(set)
    }

    /// Parses JSONL text; never fails: every problem becomes a [`BadPair`].
    pub fn parse_jsonl(&self, text: &str) -> PairSet {
        let mut set = PairSet::default();
        let mut seen = HashSet::new();
        for (i, line) in text.lines().enumerate() {
            let line_no = i + 1;
            if line.trim().is_empty() {
                continue;
            }
            let value: Value = match serde_json::from_str(line) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => {
                    let reason = BadPairReason::NotJson("not an object".into());
                    set.bad.push(BadPair { id: format!("line {line_no}"), line: line_no, reason });
                    continue;
                }
                Err(e) => {
                    let reason = BadPairReason::NotJson(e.to_string());
                    set.bad.push(BadPair { id: format!("line {line_no}"), line: line_no, reason });
                    continue;
                }
            };
            let id = match value.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => format!("line {line_no}"),
            };
            let result =
                if seen.insert(id.clone()) { self.tokenize(&id, &value) } else { Err(BadPairReason::DuplicateId) };
            match result {
                Ok(pair) => set.pairs.push(pair),
                Err(reason) => set.bad.push(BadPair { id, line: line_no, reason }),
            }
        }
        set
    }

    /// Tokenises one pair object.
    pub fn tokenize(&self, id: &str, value: &Value) -> std::result::Result<TokenizedPair, BadPairReason> {
        let mut fields = Vec::with_capacity(3);
        for name in FIELDS {
            match value.get(name) {
                None | Some(Value::Null) => return Err(BadPairReason::MissingField(name)),
                Some(v) => fields.push((name, v)),
            }
        }
        let image_refs = image_refs(value)?;
        let conversational = fields[0].1.is_array();
        for &(name, v) in &fields {
            match v {
                Value::String(s) if !conversational => {
                    if s.trim().is_empty() {
                        return Err(BadPairReason::Empty(name));
                    }
                }
                Value::Array(msgs) if conversational => {
                    if msgs.iter().all(message_is_empty) {
                        return Err(BadPairReason::Empty(name));
                    }
                }
                _ => return Err(BadPairReason::WrongType(name)),
            }
        }
        let mut images = Vec::new();
        let (prompt, chosen, rejected) = if !image_refs.is_empty() {
            let vision = self.vision.as_ref().ok_or(BadPairReason::ImagesOnTextModel)?;
            images = load_images(vision, &image_refs)?;
            let fields = [fields[0].1, fields[1].1, fields[2].1];
            let (p, c, r) = crate::vision_pairs::tokenize(self.tokenizer, self.chat_template, vision, fields, &images)?;
            // the prompt and the completions are encoded separately: the sequences are their concatenations
            (p.clone(), [p.clone(), c].concat(), [p, r].concat())
        } else if conversational {
            self.tokenize_conversation(fields[0].1, fields[1].1, fields[2].1)?
        } else {
            let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
            self.tokenize_text(&text(fields[0].1), &text(fields[1].1), &text(fields[2].1))?
        };
        let prompt_len = common_prefix(&prompt, &chosen).min(common_prefix(&prompt, &rejected));
        for (name, full) in [("chosen", &chosen), ("rejected", &rejected)] {
            if full.len() <= prompt_len {
                return Err(BadPairReason::NoCompletion(name));
            }
            if full.len() > self.max_length {
                return Err(BadPairReason::TooLong { field: name, len: full.len(), max: self.max_length });
            }
        }
        if prompt_len == 0 {
            return Err(BadPairReason::Empty("prompt"));
        }
        Ok(TokenizedPair {
            id: id.to_string(),
            prompt: prompt[..prompt_len].to_vec(),
            chosen: chosen[prompt_len..].to_vec(),
            rejected: rejected[prompt_len..].to_vec(),
            images,
        })
    }

    fn encode(&self, text: &str, special: bool) -> std::result::Result<Vec<u32>, BadPairReason> {
        self.tokenizer.encode(text, special).map_err(|e| BadPairReason::Tokenize(e.to_string()))
    }

    #[allow(clippy::type_complexity)]
    fn tokenize_text(
        &self,
        prompt: &str,
        chosen: &str,
        rejected: &str,
    ) -> std::result::Result<(Vec<u32>, Vec<u32>, Vec<u32>), BadPairReason> {
        let eos = self.tokenizer.special_tokens().eos_token.clone().unwrap_or_default();
        let with_eos = |s: &str| if s.ends_with(&eos) { s.to_string() } else { format!("{s}{eos}") };
        Ok((
            self.encode(prompt, true)?,
            self.encode(&format!("{prompt}{}", with_eos(chosen)), true)?,
            self.encode(&format!("{prompt}{}", with_eos(rejected)), true)?,
        ))
    }

    #[allow(clippy::type_complexity)]
    fn tokenize_conversation(
        &self,
        prompt: &Value,
        chosen: &Value,
        rejected: &Value,
    ) -> std::result::Result<(Vec<u32>, Vec<u32>, Vec<u32>), BadPairReason> {
        let template = self.chat_template.ok_or(BadPairReason::NoChatTemplate)?;
        let msgs = |v: &Value| v.as_array().cloned().unwrap_or_default();
        let render = |messages: &[Value], add_generation_prompt: bool| {
            template
                .render(messages, &ChatOptions { add_generation_prompt, tools: None })
                .map_err(|e| BadPairReason::Tokenize(e.to_string()))
        };
        let p = msgs(prompt);
        let pc = [p.clone(), msgs(chosen)].concat();
        let pr = [p.clone(), msgs(rejected)].concat();
        Ok((
            self.encode(&render(&p, true)?, false)?,
            self.encode(&render(&pc, false)?, false)?,
            self.encode(&render(&pr, false)?, false)?,
        ))
    }
}

fn message_is_empty(m: &Value) -> bool {
    match m.get("content") {
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(parts)) => parts.is_empty(),
        _ => true,
    }
}

fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}
