//! `criticloop-model`: generate, score and benchmark with a Hugging Face Qwen2 or LLaVA-OneVision
//! checkpoint, in process.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use model::llava::preprocess::{ImageProcessorConfig, load_image, preprocess};
use model::llava::tokens::image_token_count;
use model::{
    Completion, Dtype, GenerateConfig, ImageInput, LlavaOnevision, LoadOptions, Message, Qwen2ForCausalLM, Sampling,
    ScoreRequest, TextModel, VisionModel, VisionPrompt, generate, generate_with, parse_device, response_logprobs,
};
use rand::{Rng, SeedableRng};
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "criticloop-model",
    about = "In-process Qwen2 / LLaVA-OneVision runtime (libtorch): generate, logprobs, bench"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Sample responses to one prompt (chat template applied unless --raw); prints one JSON line per sample.
    Generate {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long)]
        prompt: String,
        #[command(flatten)]
        sampling: SamplingArgs,
        /// Use the prompt text as is instead of wrapping it as a user message in the chat template.
        #[arg(long)]
        raw: bool,
        /// An image file for a LLaVA-OneVision checkpoint (repeatable; with --raw the prompt needs one
        /// `<image>` per image).
        #[arg(long = "image")]
        images: Vec<PathBuf>,
    },
    /// Log-probability of a response after a prompt; prints JSON.
    Logprobs {
        #[command(flatten)]
        load: LoadArgs,
        #[arg(long)]
        prompt: String,
        #[arg(long)]
        response: String,
        /// Use the prompt text as is instead of the chat template's user turn + generation prompt.
        #[arg(long)]
        raw: bool,
    },
    /// Generation throughput on token-id prompts (random ones, or --prompts-file); prints JSON.
    Bench {
        #[command(flatten)]
        load: LoadArgs,
        /// JSON list of token-id lists; without it, --prompts random prompts of --prompt-len tokens.
        #[arg(long)]
        prompts_file: Option<PathBuf>,
        #[arg(long, default_value_t = 8)]
        prompts: usize,
        #[arg(long, default_value_t = 128)]
        prompt_len: usize,
        #[command(flatten)]
        sampling: SamplingArgs,
        /// Timed repetitions (the best one is reported, after one untimed warm-up of 2 tokens).
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// For a LLaVA-OneVision checkpoint: every prompt shows this image first (its `<image>` tokens,
        /// expanded as the processor does, precede the prompt's token ids).
        #[arg(long)]
        image: Option<PathBuf>,
    },
}

#[derive(Args)]
struct LoadArgs {
    /// Hugging Face checkpoint folder (config.json, safetensors, tokenizer.json).
    #[arg(long)]
    checkpoint: PathBuf,
    /// f32, bf16 or f16.
    #[arg(long, default_value = "f32")]
    dtype: String,
    /// cpu, cuda, cuda:N or auto.
    #[arg(long, default_value = "cpu")]
    device: String,
}

impl LoadArgs {
    fn options(&self) -> Result<LoadOptions> {
        Ok(LoadOptions { dtype: self.dtype.parse::<Dtype>()?, device: parse_device(&self.device)? })
    }
}

#[derive(Args)]
struct SamplingArgs {
    /// K samples of the prompt (sharing one prefill).
    #[arg(long, default_value_t = 1)]
    samples: usize,
    /// 0 means greedy.
    #[arg(long, default_value_t = 0.7)]
    temperature: f64,
    #[arg(long, default_value_t = 1.0)]
    top_p: f64,
    /// 0 disables top-k.
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    #[arg(long, default_value_t = 64)]
    max_new_tokens: usize,
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

impl SamplingArgs {
    fn config(&self, stop_token_ids: Vec<u32>) -> GenerateConfig {
        let sampling = if self.temperature == 0.0 {
            Sampling::Greedy
        } else {
            Sampling::Random {
                temperature: self.temperature,
                top_k: (self.top_k > 0).then_some(self.top_k),
                top_p: (self.top_p < 1.0).then_some(self.top_p),
            }
        };
        GenerateConfig {
            max_new_tokens: self.max_new_tokens,
            sampling,
            stop_token_ids,
            samples_per_prompt: self.samples,
            seed: self.seed,
            prompt_seeds: None,
        }
    }
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Generate { load, prompt, sampling, raw, images } => {
            let out = if is_llava(&load.checkpoint)? {
                generate_with_images(&load, &prompt, &sampling, raw, &images)?
            } else {
                if !images.is_empty() {
                    bail!("--image: {} is a text-only checkpoint", load.checkpoint.display());
                }
                let m = TextModel::load(&load.checkpoint, &load.options()?)?;
                let text = if raw { prompt.clone() } else { m.prompt_text(&[Message::new("user", &prompt)], &prompt)? };
                m.generate_text(&[text.as_str()], &sampling.config(m.stop_token_ids()))?
            };
            for (i, (text, c)) in out.into_iter().flatten().enumerate() {
                let finish = match c.finish {
                    model::FinishReason::Stop(t) => json!({"stop": t}),
                    model::FinishReason::Length => json!("length"),
                };
                println!("{}", json!({"sample": i, "text": text, "tokens": c.tokens, "finish": finish}));
            }
        }
        Command::Logprobs { load, prompt, response, raw } => {
            let m = TextModel::load(&load.checkpoint, &load.options()?)?;
            let text = if raw { prompt.clone() } else { m.prompt_text(&[Message::new("user", &prompt)], &prompt)? };
            let p = m.tokenizer.encode(&text, false)?;
            let r = m.tokenizer.encode(&response, false)?;
            let out = response_logprobs(&m.model, &[ScoreRequest { prompt: &p, response: &r }])?;
            let out = out.into_iter().next().context("one result")?;
            println!("{}", json!({"response_tokens": r, "per_token": out.per_token, "sum": out.sum}));
        }
        Command::Bench { load, prompts_file, prompts, prompt_len, sampling, repeat, image } => {
            bench(&load, prompts_file, prompts, prompt_len, &sampling, repeat, image)?;
        }
    }
    Ok(())
}

/// Whether `dir/config.json` describes a LLaVA-OneVision model.
fn is_llava(dir: &std::path::Path) -> Result<bool> {
    let path = dir.join("config.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("{}", path.display()))?;
    let config: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}", path.display()))?;
    Ok(config["model_type"] == "llava_onevision")
}

fn generate_with_images(
    load: &LoadArgs,
    prompt: &str,
    sampling: &SamplingArgs,
    raw: bool,
    images: &[PathBuf],
) -> Result<Vec<Vec<(String, Completion)>>> {
    let m = VisionModel::load(&load.checkpoint, &load.options()?)?;
    let pixels = images.iter().map(|p| model::llava::preprocess::load_image(p)).collect::<model::Result<Vec<_>>>()?;
    let text = if raw {
        prompt.to_string()
    } else {
        let mut content: Vec<serde_json::Value> = images.iter().map(|_| json!({"type": "image"})).collect();
        content.push(json!({"type": "text", "text": prompt}));
        m.prompt_text(&[json!({"role": "user", "content": content})], prompt)?
    };
    Ok(m.generate_text(&[VisionPrompt::new(&text, &pixels)], &sampling.config(m.stop_token_ids()))?)
}

fn bench(
    load: &LoadArgs,
    prompts_file: Option<PathBuf>,
    n: usize,
    len: usize,
    sampling: &SamplingArgs,
    repeat: usize,
    image: Option<PathBuf>,
) -> Result<()> {
    let t0 = Instant::now();
    // a LLaVA-OneVision with its image (pixel values, size, token count), or a Qwen2
    let (text, vision) = match &image {
        Some(path) => {
            let llava = LlavaOnevision::load(&load.checkpoint, &load.options()?)?;
            let processor = ImageProcessorConfig::from_dir(&load.checkpoint)?;
            let config = llava.config();
            let pixels = load_image(path)?;
            let (values, size) =
                preprocess(&pixels, &config.image_grid_pinpoints, config.vision.image_size, &processor)?;
            let count = image_token_count(config, size, false);
            (None, Some((llava, values, size, count)))
        }
        None => (Some(Qwen2ForCausalLM::load(&load.checkpoint, &load.options()?)?), None),
    };
    let model = match (&text, &vision) {
        (Some(m), _) => m,
        (None, Some((llava, ..))) => llava.language_model(),
        (None, None) => bail!("no model"),
    };
    let load_s = t0.elapsed().as_secs_f64();
    let mut prompts: Vec<Vec<u32>> = match prompts_file {
        Some(f) => serde_json::from_str(&std::fs::read_to_string(&f).with_context(|| format!("{}", f.display()))?)?,
        None => {
            let mut rng = rand::rngs::StdRng::seed_from_u64(sampling.seed);
            let vocab = model.config().vocab_size as u32;
            (0..n).map(|_| (0..len).map(|_| rng.random_range(0..vocab)).collect()).collect()
        }
    };
    if prompts.is_empty() {
        bail!("no prompts");
    }
    if let Some((llava, _, _, count)) = &vision {
        let token = u32::try_from(llava.config().image_token_index)?;
        for p in &mut prompts {
            p.splice(0..0, std::iter::repeat_n(token, usize::try_from(*count)?));
        }
    }
    let refs: Vec<&[u32]> = prompts.iter().map(Vec::as_slice).collect();
    // no stop tokens: every run generates exactly max_new_tokens per sample
    let cfg = sampling.config(Vec::new());
    let run = |prompts: &[&[u32]], cfg: &GenerateConfig| -> Result<Vec<Vec<Completion>>> {
        Ok(match &vision {
            None => generate(model, prompts, cfg)?,
            Some((llava, values, size, _)) => {
                let images: Vec<ImageInput<'_>> = prompts.iter().map(|_| ImageInput::tiled(values, *size)).collect();
                let embed = |ids: &model::tch::Tensor| llava.embed_with_images(ids, &images);
                generate_with(model, prompts, cfg, &embed)?
            }
        })
    };
    run(&refs[..1], &GenerateConfig { max_new_tokens: 2, samples_per_prompt: 1, ..cfg.clone() })?;
    let mut best = f64::INFINITY;
    let mut tokens = 0;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        let out = run(&refs, &cfg)?;
        best = best.min(t.elapsed().as_secs_f64());
        tokens = out.iter().flatten().map(|c| c.tokens.len()).sum::<usize>();
    }
    println!(
        "{}",
        json!({
            "side": "criticloop",
            "prompts": prompts.len(),
            "prompt_tokens": prompts.iter().map(Vec::len).sum::<usize>(),
            "image_tokens": vision.as_ref().map(|v| v.3),
            "samples": sampling.samples,
            "new_tokens": tokens,
            "seconds": best,
            "tokens_per_s": tokens as f64 / best,
            "load_s": load_s,
            "threads": model::tch::get_num_threads(),
            "peak_rss_mib": peak_rss_mib(),
        })
    );
    Ok(())
}

/// Peak resident set size of this process (Linux `VmHWM`), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
