//! Pairs with images, for LLaVA-OneVision policies, tokenised as TRL's `DataCollatorForVisionPreference`
//! does (trl 1.16):
//! - conversational pairs: `prepare_multimodal_messages` puts one `{"type": "image"}` block per image before
//!   the text of the first user message and turns every other string content into a text block; the chat
//!   template renders the prompt (with the generation prompt) and `prompt + chosen`, `prompt + rejected`; the
//!   prompt text is the common prefix of the three renderings (characters), and each completion is the rest;
//! - plain pairs: the prompt must hold one `<image>` per image; nothing is appended to the completions;
//! - the prompt's `<image>` placeholders expand to the image's feature count (the processor's rule: one
//!   image is tiled over the grid pinpoints, several keep their base tile each), and the prompt and the
//!   completions are encoded separately, without special tokens.
//!
//! Images are kept encoded (a few KB each) and decoded again for each micro-batch, so a round's pair set
//! does not hold every image's pixel values in memory.

use std::sync::Arc;

use model::llava::preprocess::{decode_image, preprocess, preprocess_base};
use model::llava::tokens::{expand_image_tokens, image_token_count};
use model::tch::Tensor;
use model::{ChatOptions, ChatTemplate, LlavaOnevisionConfig, TextTokenizer};
use serde_json::{Value, json};

use crate::error::Result;
use crate::pairs::BadPairReason;
use crate::policy::{BatchImages, PolicyModel};

/// One image of a pair: its encoded bytes and (height, width).
#[derive(Clone, PartialEq, Eq)]
pub struct PairImage {
    pub bytes: Arc<[u8]>,
    pub size: [i64; 2],
}

impl std::fmt::Debug for PairImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PairImage({}x{}, {} bytes)", self.size[1], self.size[0], self.bytes.len())
    }
}

/// Turns an image reference of a pair (`images` entries) into its encoded bytes.
pub type ImageLoader<'a> = &'a (dyn Fn(&str) -> std::result::Result<Vec<u8>, String> + Sync);

/// What a LLaVA-OneVision checkpoint needs to tokenise pairs with images.
#[derive(Clone, Copy)]
pub struct VisionPairs<'a> {
    pub config: &'a LlavaOnevisionConfig,
    pub load_image: ImageLoader<'a>,
}

/// The image references of a pair: `images` (a list) or `image` (one), as TRL reads them.
pub fn image_refs(value: &Value) -> std::result::Result<Vec<String>, BadPairReason> {
    let refs = match (value.get("images"), value.get("image")) {
        (Some(Value::Array(items)), _) => items.iter().map(|v| v.as_str().map(str::to_string)).collect(),
        (Some(Value::Null) | None, Some(Value::String(one))) => Some(vec![one.clone()]),
        (Some(Value::Null) | None, None | Some(Value::Null)) => Some(Vec::new()),
        _ => None,
    };
    refs.ok_or(BadPairReason::ImagesNotAList)
}

/// Loads and measures the images of a pair.
pub fn load_images(vision: &VisionPairs<'_>, refs: &[String]) -> std::result::Result<Vec<PairImage>, BadPairReason> {
    refs.iter()
        .map(|r| {
            let bad = |message: String| BadPairReason::Image { reference: r.clone(), message };
            let bytes = (vision.load_image)(r).map_err(bad)?;
            let pixels = decode_image(&bytes).map_err(|e| bad(e.to_string()))?;
            let s = pixels.size();
            Ok(PairImage { bytes: bytes.into(), size: [s[1], s[2]] })
        })
        .collect()
}

/// `(prompt, chosen, rejected)` token ids.
pub type PairIds = (Vec<u32>, Vec<u32>, Vec<u32>);

/// `(prompt, chosen, rejected)` token ids of a pair with `images`.
pub fn tokenize(
    tokenizer: &TextTokenizer,
    chat_template: Option<&ChatTemplate>,
    vision: &VisionPairs<'_>,
    fields: [&Value; 3],
    images: &[PairImage],
) -> std::result::Result<PairIds, BadPairReason> {
    let [prompt, chosen, rejected] = fields;
    let (prompt, chosen, rejected) = if prompt.is_array() {
        let template = chat_template.ok_or(BadPairReason::NoChatTemplate)?;
        conversation_texts(template, prompt, chosen, rejected, images.len())?
    } else {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        (text(prompt), text(chosen), text(rejected))
    };
    let multi = images.len() > 1;
    let counts: Vec<i64> = images.iter().map(|i| image_token_count(vision.config, i.size, multi)).collect();
    let prompt = expand_image_tokens(&prompt, &counts).map_err(|e| BadPairReason::Tokenize(format!("prompt: {e}")))?;
    let encode = |text: &str| tokenizer.encode(text, false).map_err(|e| BadPairReason::Tokenize(e.to_string()));
    Ok((encode(&prompt)?, encode(&chosen)?, encode(&rejected)?))
}

/// TRL's `prepare_multimodal_messages` and `apply_chat_template` for a preference example.
fn conversation_texts(
    template: &ChatTemplate,
    prompt: &Value,
    chosen: &Value,
    rejected: &Value,
    images: usize,
) -> std::result::Result<(String, String, String), BadPairReason> {
    let p = multimodal(prompt, images);
    if p.last().and_then(|m| m.get("role")).and_then(Value::as_str) == Some("assistant") {
        return Err(BadPairReason::WrongType("prompt"));
    }
    let render = |messages: &[Value], add_generation_prompt: bool| {
        template
            .render(messages, &ChatOptions { add_generation_prompt, tools: None })
            .map_err(|e| BadPairReason::Tokenize(e.to_string()))
    };
    let prompt_text = render(&p, true)?;
    let pc = render(&[p.clone(), multimodal(chosen, 0)].concat(), false)?;
    let pr = render(&[p.clone(), multimodal(rejected, 0)].concat(), false)?;
    let common = common_chars(common_chars(&prompt_text, &pc), &pr).to_string();
    Ok((common.clone(), pc[common.len()..].to_string(), pr[common.len()..].to_string()))
}

/// Messages with string contents turned into content blocks; `images` image blocks go before the text of
/// the first user message with a string content.
fn multimodal(messages: &Value, images: usize) -> Vec<Value> {
    let mut included = false;
    let list = messages.as_array().cloned().unwrap_or_default();
    list.into_iter()
        .map(|m| {
            let Some(text) = m.get("content").and_then(Value::as_str) else { return m };
            let mut blocks = Vec::new();
            if m.get("role").and_then(Value::as_str) == Some("user") && !included {
                blocks.extend((0..images).map(|_| json!({"type": "image"})));
                included = true;
            }
            blocks.push(json!({"type": "text", "text": text}));
            let mut m = m.clone();
            m["content"] = Value::Array(blocks);
            m
        })
        .collect()
}

/// The longest common prefix of `a` and `b`, on character boundaries.
fn common_chars<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i);
    &a[..end]
}

/// Pixel values of the images of `pairs`, in the order of their `<image>` placeholders: each pair's images
/// in order, pair after pair. An image alone in its pair is tiled; several keep their base tile each.
pub fn batch_images<'a>(pairs: impl Iterator<Item = &'a [PairImage]>, policy: &PolicyModel) -> Result<BatchImages> {
    let Some((model, processor)) = policy.llava() else {
        return Ok(Vec::new());
    };
    let config = model.config();
    let tile = config.vision.image_size;
    let mut out = Vec::new();
    for images in pairs {
        let tiled = images.len() == 1;
        for image in images {
            let pixels = decode_image(&image.bytes)?;
            let (values, size) = if tiled {
                preprocess(&pixels, &config.image_grid_pinpoints, tile, processor)?
            } else {
                preprocess_base(&pixels, tile, processor)?
            };
            let values: Tensor = values.f_to_device(policy.device())?;
            out.push((values, size, tiled));
        }
    }
    Ok(out)
}
