//! KV-cache generation: greedy parity with transformers' `generate`, seeded sampling, shared prefill.

use anyhow::{Context, Result};
use model::tch::Device;
use model::{Completion, Dtype, FinishReason, GenerateConfig, LoadOptions, Qwen2ForCausalLM, Sampling, generate};

use crate::support::{checkpoint, reference, u32s};

fn tiny() -> Result<Qwen2ForCausalLM> {
    Ok(Qwen2ForCausalLM::load(&checkpoint("qwen2"), &LoadOptions { dtype: Dtype::F32, device: Device::Cpu })?)
}

fn prompts() -> Result<Vec<Vec<u32>>> {
    reference()["batch"].as_array().context("batch")?.iter().map(u32s).collect()
}

fn refs(p: &[Vec<u32>]) -> Vec<&[u32]> {
    p.iter().map(Vec::as_slice).collect()
}

#[test]
fn parity_greedy_generation_matches_transformers_generate() -> Result<()> {
    let model = tiny()?;
    let prompts = prompts()?;
    let cases = reference()["greedy"].as_array().context("greedy")?;
    let mut stopped_early = 0;
    for (c, case) in cases.iter().enumerate() {
        let stops = u32s(&case["stop_token_ids"])?;
        let max_new = case["max_new_tokens"].as_u64().context("max_new_tokens")? as usize;
        let cfg = GenerateConfig { max_new_tokens: max_new, stop_token_ids: stops.clone(), ..Default::default() };
        let got = generate(&model, &refs(&prompts), &cfg)?;
        let want = case["new_tokens"].as_array().context("new_tokens")?;
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            // transformers pads a finished row with pad_token_id: its output ends at the first stop token
            let w = u32s(w)?;
            let (expected, finish) = match w.iter().position(|t| stops.contains(t)) {
                Some(p) => (w[..=p].to_vec(), FinishReason::Stop(w[p])),
                None => (w.clone(), FinishReason::Length),
            };
            stopped_early += usize::from(expected.len() < max_new);
            assert_eq!(g, &vec![Completion { tokens: expected, finish }], "case {c} prompt {i}");
        }
    }
    assert!(stopped_early > 0, "the reference exercises stopping before max_new_tokens");
    Ok(())
}

#[test]
fn same_seed_same_samples_and_seeds_differ() -> Result<()> {
    let model = tiny()?;
    let prompts = prompts()?;
    let cfg = |seed| GenerateConfig {
        max_new_tokens: 8,
        sampling: Sampling::Random { temperature: 1.0, top_k: Some(50), top_p: Some(0.9) },
        samples_per_prompt: 4,
        seed,
        ..Default::default()
    };
    let a = generate(&model, &refs(&prompts), &cfg(11))?;
    let b = generate(&model, &refs(&prompts), &cfg(11))?;
    let c = generate(&model, &refs(&prompts), &cfg(12))?;
    assert_eq!(a, b, "same seed, same samples");
    assert_ne!(a, c, "another seed gives other samples");
    assert_eq!(a.len(), prompts.len());
    for samples in &a {
        assert_eq!(samples.len(), 4);
        assert!(samples.iter().all(|s| s.tokens.len() == 8 && s.finish == FinishReason::Length));
        // K samples of one prompt are not copies of each other
        assert!(samples.iter().any(|s| s.tokens != samples[0].tokens), "{samples:?}");
    }
    Ok(())
}

#[test]
fn shared_prefill_equals_separate_prefills() -> Result<()> {
    let model = tiny()?;
    let prompts = prompts()?;
    let k = 3;
    // the same prompts, each written k times: k separate prefills per prompt
    let repeated: Vec<Vec<u32>> = prompts.iter().flat_map(|p| std::iter::repeat_n(p.clone(), k)).collect();
    for sampling in [Sampling::Greedy, Sampling::Random { temperature: 0.8, top_k: None, top_p: Some(0.95) }] {
        let base = GenerateConfig { max_new_tokens: 10, sampling: sampling.clone(), seed: 5, ..Default::default() };
        let shared = generate(&model, &refs(&prompts), &GenerateConfig { samples_per_prompt: k, ..base.clone() })?;
        let separate = generate(&model, &refs(&repeated), &base)?;
        // row r of the shared run (prompt r / k, sample r % k) and row r of the separate run draw from the
        // same random stream, so even sampled outputs agree
        let shared: Vec<&Completion> = shared.iter().flatten().collect();
        let separate: Vec<&Completion> = separate.iter().flatten().collect();
        assert_eq!(shared, separate, "{sampling:?}");
    }
    Ok(())
}

#[test]
fn prompt_seeds_make_a_prompts_samples_independent_of_its_batch() -> Result<()> {
    let model = tiny()?;
    let prompts = prompts()?;
    let sampling = Sampling::Random { temperature: 1.0, top_k: None, top_p: Some(0.9) };
    let base = GenerateConfig { max_new_tokens: 8, sampling, samples_per_prompt: 3, ..Default::default() };
    let seeds: Vec<u64> = (0..prompts.len() as u64).map(|p| 40 + p).collect();
    let batched =
        generate(&model, &refs(&prompts), &GenerateConfig { prompt_seeds: Some(seeds.clone()), ..base.clone() })?;
    for (p, prompt) in prompts.iter().enumerate() {
        // alone, with the prompt's seed as the run's seed
        let alone = generate(&model, &[prompt.as_slice()], &GenerateConfig { seed: seeds[p], ..base.clone() })?;
        assert_eq!(batched[p], alone[0], "prompt {p}");
    }
    let wrong = GenerateConfig { prompt_seeds: Some(vec![1]), ..base };
    assert!(generate(&model, &refs(&prompts), &wrong).is_err(), "one seed for several prompts");
    Ok(())
}

#[test]
fn generation_rejects_bad_requests() -> Result<()> {
    let model = tiny()?;
    let empty: &[u32] = &[];
    assert!(generate(&model, &[empty], &GenerateConfig::default()).is_err(), "empty prompt");
    let hot = GenerateConfig {
        sampling: Sampling::Random { temperature: 0.0, top_k: None, top_p: None },
        ..Default::default()
    };
    assert!(generate(&model, &[&[5u32][..]], &hot).is_err(), "temperature 0 is not sampling");
    let none = GenerateConfig { samples_per_prompt: 0, ..Default::default() };
    assert!(generate(&model, &[&[5u32][..]], &none).is_err(), "zero samples");
    let out_of_vocab = [u32::try_from(model.config().vocab_size)?];
    assert!(generate(&model, &[&out_of_vocab[..]], &GenerateConfig::default()).is_err(), "token outside vocab");
    Ok(())
}
