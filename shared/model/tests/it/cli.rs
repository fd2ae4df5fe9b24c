//! The `criticloop-model` binary gives what the library gives.

use std::process::Command;

use anyhow::{Context, Result, bail};
use model::tch::Device;
use model::{Dtype, GenerateConfig, LoadOptions, Message, TextModel};

use crate::support::checkpoint;

fn run(args: &[&str]) -> Result<Vec<serde_json::Value>> {
    let out = Command::new(env!("CARGO_BIN_EXE_criticloop-model")).args(args).output()?;
    if !out.status.success() {
        bail!("criticloop-model {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    String::from_utf8(out.stdout)?.lines().map(|l| Ok(serde_json::from_str(l)?)).collect()
}

#[test]
fn cli_generate_and_logprobs_match_the_library() -> Result<()> {
    let dir = checkpoint("qwen2");
    let d = dir.to_str().context("utf-8 path")?;
    let m = TextModel::load(&dir, &LoadOptions { dtype: Dtype::F32, device: Device::Cpu })?;
    let prompt = m.prompt_text(&[Message::new("user", "Which answer is better?")], "")?;

    let lines = run(&[
        "generate",
        "--checkpoint",
        d,
        "--prompt",
        "Which answer is better?",
        "--temperature",
        "0",
        "--max-new-tokens",
        "6",
    ])?;
    let cfg = GenerateConfig { max_new_tokens: 6, stop_token_ids: m.stop_token_ids(), ..Default::default() };
    let lib = m.generate_text(&[prompt.as_str()], &cfg)?;
    let (text, completion) = &lib[0][0];
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["text"].as_str(), Some(text.as_str()));
    assert_eq!(lines[0]["tokens"], serde_json::json!(completion.tokens));

    let sampled = run(&[
        "generate",
        "--checkpoint",
        d,
        "--prompt",
        "x",
        "--samples",
        "3",
        "--max-new-tokens",
        "4",
        "--seed",
        "9",
    ])?;
    assert_eq!(sampled.len(), 3, "one line per sample");

    let lines =
        run(&["logprobs", "--checkpoint", d, "--prompt", "Which answer is better?", "--response", "The first."])?;
    let lib = m.score_text(&[(prompt.as_str(), "The first.")])?;
    let sum = lines[0]["sum"].as_f64().context("sum")?;
    assert!((sum - lib[0].sum).abs() < 1e-6, "{sum} vs {}", lib[0].sum);
    Ok(())
}
