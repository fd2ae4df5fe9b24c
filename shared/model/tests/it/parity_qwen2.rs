//! Forward logits, response log-probabilities, tokenizer ids and chat-template rendering versus transformers.

use anyhow::{Context, Result};
use model::tch::{Device, Tensor};
use model::{
    ChatOptions, ChatTemplate, Dtype, LoadOptions, Qwen2ForCausalLM, ScoreRequest, StepInput, TemplateValue,
    TextTokenizer, positions_from_mask, response_logprobs,
};

use crate::support::{checkpoint, max_abs_diff_masked, reference, reference_tensors, reference_text, tensor, u32s};

fn load(name: &str, dtype: Dtype) -> Result<Qwen2ForCausalLM> {
    Ok(Qwen2ForCausalLM::load(&checkpoint(name), &LoadOptions { dtype, device: Device::Cpu })?)
}

/// Logits of the reference padded batch `{name}.{side}`, with positions derived from the mask.
fn logits_of(model: &Qwen2ForCausalLM, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let positions = positions_from_mask(mask)?;
    Ok(model.forward(&StepInput { input_ids: ids, positions: &positions, attention_mask: mask }, None)?)
}

#[test]
fn parity_logits_padded_batches_f32() -> Result<()> {
    let refs = reference_tensors()?;
    // the sharded checkpoint holds the weights of `qwen2`, split over several files with an index
    for (ckpt, name) in [("qwen2", "qwen2"), ("qwen2-tied", "qwen2-tied"), ("qwen2-sharded", "qwen2")] {
        let model = load(ckpt, Dtype::F32)?;
        assert_eq!(model.is_tied(), name == "qwen2-tied", "{ckpt}: tied embeddings read from the file");
        for side in ["left", "right"] {
            let ids = tensor(&refs, &format!("{name}.{side}.input_ids"))?;
            let mask = tensor(&refs, &format!("{name}.{side}.attention_mask"))?;
            let expected = tensor(&refs, &format!("{name}.{side}.logits"))?;
            let got = logits_of(&model, ids, mask)?;
            let diff = max_abs_diff_masked(&got, expected, mask)?;
            assert!(diff < 1e-4, "{ckpt} {side}-padded: max |logit diff| {diff:e} >= 1e-4");
        }
    }
    Ok(())
}

#[test]
fn parity_logits_bf16_close_to_transformers_bf16() -> Result<()> {
    let refs = reference_tensors()?;
    let model = load("qwen2", Dtype::BF16)?;
    let ids = tensor(&refs, "qwen2.left.input_ids")?;
    let mask = tensor(&refs, "qwen2.left.attention_mask")?;
    let got = logits_of(&model, ids, mask)?;
    let bf16 = max_abs_diff_masked(&got, tensor(&refs, "qwen2.left.logits_bf16")?, mask)?;
    let f32 = max_abs_diff_masked(&got, tensor(&refs, "qwen2.left.logits")?, mask)?;
    // bfloat16 keeps 8 bits of mantissa: both runs round differently, so only closeness is meaningful
    assert!(bf16 < 0.1, "bf16 vs transformers bf16: {bf16}");
    assert!(f32 < 0.2, "bf16 vs f32: {f32}");
    // and f16 runs too
    let half = load("qwen2", Dtype::F16)?;
    let got = logits_of(&half, ids, mask)?;
    let d = max_abs_diff_masked(&got, tensor(&refs, "qwen2.left.logits")?, mask)?;
    assert!(d < 0.05, "f16 vs f32: {d}");
    Ok(())
}

#[test]
fn parity_response_logprobs_batched() -> Result<()> {
    let model = load("qwen2", Dtype::F32)?;
    let cases = reference()["logprobs"].as_array().context("logprobs")?;
    let ids: Vec<(Vec<u32>, Vec<u32>)> =
        cases.iter().map(|c| Ok((u32s(&c["prompt"])?, u32s(&c["response"])?))).collect::<Result<_>>()?;
    let reqs: Vec<ScoreRequest<'_>> = ids.iter().map(|(p, r)| ScoreRequest { prompt: p, response: r }).collect();
    let got = response_logprobs(&model, &reqs)?;
    assert_eq!(got.len(), cases.len());
    for (i, (g, c)) in got.iter().zip(cases).enumerate() {
        let want: Vec<f64> =
            c["per_token"].as_array().context("per_token")?.iter().filter_map(serde_json::Value::as_f64).collect();
        assert_eq!(g.per_token.len(), want.len(), "case {i}: one log-prob per response token");
        for (j, (a, b)) in g.per_token.iter().zip(&want).enumerate() {
            assert!((f64::from(*a) - b).abs() < 1e-4, "case {i} token {j}: {a} vs {b}");
        }
        let sum = c["sum"].as_f64().context("sum")?;
        assert!((g.sum - sum).abs() < 1e-3, "case {i}: sum {} vs {sum}", g.sum);
    }
    // a batch of one gives the same numbers as the padded batch
    let single = response_logprobs(&model, &reqs[1..2])?;
    for (a, b) in single[0].per_token.iter().zip(&got[1].per_token) {
        assert!((a - b).abs() < 1e-5);
    }
    Ok(())
}

#[test]
fn parity_tokenizer_ids_and_decode() -> Result<()> {
    let tok = TextTokenizer::from_dir(&checkpoint("qwen2"))?;
    let r = reference();
    assert_eq!(tok.vocab_size() as u64, r["vocab_size"].as_u64().context("vocab_size")?);
    assert_eq!(tok.pad_token_id().map(u64::from), r["pad_token_id"].as_u64());
    assert_eq!(tok.eos_token_id().map(u64::from), r["eos_token_id"].as_u64());
    for case in r["texts"].as_array().context("texts")? {
        let text = case["text"].as_str().context("text")?;
        assert_eq!(tok.encode(text, false)?, u32s(&case["ids"])?, "ids of {text:?}");
        assert_eq!(tok.encode(text, true)?, u32s(&case["ids_special"])?, "ids with special tokens of {text:?}");
        let decoded = tok.decode(&u32s(&case["ids"])?, false)?;
        assert_eq!(decoded, case["decoded"].as_str().context("decoded")?, "decode of {text:?}");
    }
    Ok(())
}

#[test]
fn parity_chat_template_renders_and_tokenizes_like_apply_chat_template() -> Result<()> {
    let dir = checkpoint("qwen2");
    let template = ChatTemplate::from_dir(&dir)?;
    let tok = TextTokenizer::from_dir(&dir)?;
    // parsed as template values so that objects keep the key order transformers saw
    let r: TemplateValue = serde_json::from_str(&reference_text()?)?;
    let chats = r.get_attr("chats")?;
    let n = chats.len().context("chats")?;
    assert!(n >= 4);
    for i in 0..n {
        let chat = chats.get_item_by_index(i)?;
        let messages: Vec<TemplateValue> = chat.get_attr("messages")?.try_iter()?.collect();
        let tools = chat.get_attr("tools")?;
        let opts = ChatOptions {
            add_generation_prompt: chat.get_attr("add_generation_prompt")?.is_true(),
            tools: (!tools.is_undefined()).then_some(tools),
        };
        let rendered = template.render(&messages, &opts)?;
        let expected = chat.get_attr("rendered")?;
        assert_eq!(Some(rendered.as_str()), expected.as_str(), "chat {i}");
        let ids: Vec<u32> = chat
            .get_attr("ids")?
            .try_iter()?
            .map(|v| u32::try_from(v).map_err(anyhow::Error::from))
            .collect::<Result<_>>()?;
        assert_eq!(tok.encode(&rendered, false)?, ids, "chat {i} token ids");
    }
    // raise_exception surfaces the template's own message, as transformers' TemplateError does
    let bad = r.get_attr("bad_chat")?;
    let messages: Vec<TemplateValue> = bad.get_attr("messages")?.try_iter()?.collect();
    let err = template
        .render(&messages, &ChatOptions { add_generation_prompt: true, tools: None })
        .err()
        .context("the bad chat must fail")?;
    let want = bad.get_attr("error")?;
    let want = want.as_str().context("transformers raised")?;
    assert!(err.to_string().contains(want), "{err} should contain {want:?}");
    Ok(())
}
