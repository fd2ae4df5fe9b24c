//! `dpo_parity_*`: criticloop's DPO against TRL's `DPOTrainer` on the tiny random Qwen2 checkpoints, same
//! pairs, same options, float32 on CPU: identical tokenisation, per-step loss and TRL's reward / log-prob
//! metrics within 1e-5 relative, and final weights within 1e-5 absolute. TRL runs once for all cases (one
//! Python process), cached on disk by the hash of the scripts and the specification.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result, bail};
use model::LoadOptions;
use model::tch::{Device, Kind, Tensor};
use serde_json::{Value, json};
use train::{CheckpointText, DpoConfig, DpoTrainer, LossType, Schedule, StepMetrics, TokenizedPair};

use crate::support::{checkpoint, images_dir, trl_runs};

pub const TEXT_PAIRS: &str = r#"{"id": "fox", "prompt": "Hello world! The quick brown fox", "chosen": " jumps over the lazy dog.", "rejected": " sleeps."}
{"id": "critic", "prompt": "A critic model", "chosen": " scores responses.", "rejected": " The better response: [1]. Two responses are equally good."}
{"id": "judge", "prompt": "Given an image and a corresponding question, please serve as a judge.", "chosen": " The better response: [2].", "rejected": " I'll say you've got it."}
{"id": "qwen", "prompt": "Qwen2 uses grouped-query attention", "chosen": " and rotary position embeddings.", "rejected": " café naïve 東京<|im_end|>"}
"#;

pub const CHAT_PAIRS: &str = r#"{"id": "c1", "prompt": [{"role": "user", "content": "Which is better?"}], "chosen": [{"role": "assistant", "content": "The first one."}], "rejected": [{"role": "assistant", "content": "Two responses are equally good, I'll say."}]}
{"id": "c2", "prompt": [{"role": "system", "content": "You judge answers."}, {"role": "user", "content": "Score the response out of 100."}], "chosen": [{"role": "assistant", "content": "Score: 90. It's correct."}], "rejected": [{"role": "assistant", "content": "qqq ZZZ"}]}
"#;

/// Pairs with images (file names under the LLaVA fixtures' folder): one image (tiled over the grid), another
/// of another shape, and two images in one prompt (base tiles only).
pub const VISION_PAIRS: &str = r#"{"id": "v1", "images": ["image-0.png"], "prompt": [{"role": "user", "content": "Describe the image."}], "chosen": [{"role": "assistant", "content": "A large red circle and a small blue square."}], "rejected": [{"role": "assistant", "content": "Nothing, I'd say."}]}
{"id": "v2", "images": ["image-1.png"], "prompt": [{"role": "user", "content": "What is in the picture?"}], "chosen": [{"role": "assistant", "content": "A green triangle."}], "rejected": [{"role": "assistant", "content": "Two responses are equally good."}]}
{"id": "v3", "images": ["image-0.png", "image-2.png"], "prompt": [{"role": "user", "content": "Which one is better?"}], "chosen": [{"role": "assistant", "content": "The first one."}], "rejected": [{"role": "assistant", "content": "The second."}]}
"#;

/// The options every case starts from. The learning rate is large so that three steps move the weights by
/// ~0.1 and the rewards far from 0 (a reward is β times a difference of float32 log-prob sums, so a tiny one
/// cannot be compared at 1e-5 relative). Adam's ε is 1e-4 (TRL gets the same): with 1e-8, weights whose
/// gradient is float32 rounding noise (~1e-9) get lr-sized steps of random sign on both sides.
pub fn base_config() -> DpoConfig {
    DpoConfig {
        learning_rate: 5e-2,
        adam_epsilon: 1e-4,
        per_device_train_batch_size: 2,
        max_steps: Some(3),
        shuffle: false,
        ..DpoConfig::default()
    }
}

struct Case {
    name: String,
    checkpoint: &'static str,
    pairs: &'static str,
    config: DpoConfig,
}

fn cases() -> Vec<Case> {
    let mut cases = base_cases();
    // Mixed precision, with Adam's ε above the gradients (Adam then steps like SGD): with a small ε the many
    // near-zero gradients, whose bfloat16 rounding differs in the last bit between two correct
    // implementations, would get lr-sized steps of either sign and hide the comparison.
    let bf16 = DpoConfig { bf16: true, learning_rate: 2e-2, adam_epsilon: 1e-2, ..base_config() };
    let vision = DpoConfig { learning_rate: 1e-2, ..bf16.clone() };
    let shared = DpoConfig { shared_prompt: true, sft_weight: 0.3, ..bf16.clone() };
    for (name, checkpoint, pairs, config) in [
        ("bf16", "qwen2", TEXT_PAIRS, bf16.clone()),
        ("bf16_shared_prompt", "qwen2", TEXT_PAIRS, shared),
        ("bf16_llava", "llava-ov", VISION_PAIRS, vision),
        ("bf16_sft_only", "qwen2", CHAT_PAIRS, DpoConfig { loss_type: LossType::Sft, ..bf16.clone() }),
    ] {
        // the float32 twin, which only TRL runs (the packed layout is rounded differently from TRL's anyway)
        if !config.shared_prompt {
            let twin = DpoConfig { bf16: false, ..config.clone() };
            cases.push(Case { name: format!("{name}_f32"), checkpoint, pairs, config: twin });
        }
        cases.push(Case { name: name.into(), checkpoint, pairs, config });
    }
    cases
}

fn base_cases() -> Vec<Case> {
    let base = base_config();
    let vision = DpoConfig { learning_rate: 1e-2, adam_epsilon: 1e-3, ..base.clone() };
    let case = |name: &str, config| Case { name: name.into(), checkpoint: "qwen2", pairs: TEXT_PAIRS, config };
    vec![
        case("sigmoid", base.clone()),
        case("label_smoothing", DpoConfig { label_smoothing: 0.2, ..base.clone() }),
        case("robust", DpoConfig { loss_type: LossType::Robust, label_smoothing: 0.1, ..base.clone() }),
        case("ipo", DpoConfig { loss_type: LossType::Ipo, ..base.clone() }),
        case("hinge", DpoConfig { loss_type: LossType::Hinge, ..base.clone() }),
        case("sft", DpoConfig { sft_weight: 0.5, ..base.clone() }),
        Case {
            name: "schedule_accumulation_clipping".into(),
            checkpoint: "qwen2-tied",
            pairs: TEXT_PAIRS,
            config: DpoConfig {
                lr_scheduler_type: Schedule::Cosine,
                warmup_ratio: 0.2,
                max_steps: Some(4),
                per_device_train_batch_size: 1,
                gradient_accumulation_steps: 2,
                max_grad_norm: Some(0.5),
                weight_decay: 0.1,
                ..base.clone()
            },
        },
        case(
            "precompute_trainable",
            DpoConfig {
                precompute_ref_log_probs: true,
                trainable: vec!["model.layers.1.".into(), "model.norm.".into(), "lm_head.".into()],
                max_grad_norm: None,
                ..base.clone()
            },
        ),
        case("shared_prompt", DpoConfig { shared_prompt: true, sft_weight: 0.3, ..base.clone() }),
        Case {
            name: "shared_prompt_accumulation".into(),
            checkpoint: "qwen2-tied",
            pairs: TEXT_PAIRS,
            config: DpoConfig {
                shared_prompt: true,
                precompute_ref_log_probs: true,
                per_device_train_batch_size: 1,
                gradient_accumulation_steps: 2,
                label_smoothing: 0.1,
                ..base.clone()
            },
        },
        Case {
            name: "chat".into(),
            checkpoint: "qwen2",
            pairs: CHAT_PAIRS,
            config: DpoConfig { per_device_train_batch_size: 1, gradient_accumulation_steps: 2, ..base.clone() },
        },
        Case { name: "llava".into(), checkpoint: "llava-ov", pairs: VISION_PAIRS, config: vision.clone() },
        case("sft_only", DpoConfig { loss_type: LossType::Sft, ..base.clone() }),
        Case {
            name: "sft_only_accumulation_chat".into(),
            checkpoint: "qwen2",
            pairs: CHAT_PAIRS,
            config: DpoConfig {
                loss_type: LossType::Sft,
                per_device_train_batch_size: 1,
                gradient_accumulation_steps: 2,
                ..base.clone()
            },
        },
        Case {
            name: "sft_only_llava".into(),
            checkpoint: "llava-ov",
            pairs: VISION_PAIRS,
            config: DpoConfig { loss_type: LossType::Sft, ..vision.clone() },
        },
        Case {
            name: "llava_trainable_sft".into(),
            checkpoint: "llava-ov",
            pairs: VISION_PAIRS,
            config: DpoConfig {
                trainable: vec!["multi_modal_projector.".into(), "language_model.model.layers.1.".into()],
                sft_weight: 0.5,
                ..vision
            },
        },
    ]
}

fn trl_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let runs: serde_json::Map<String, Value> = cases()
            .into_iter()
            .map(|c| {
                let spec = json!({
                    "checkpoint": checkpoint(c.checkpoint),
                    "pairs_jsonl": c.pairs,
                    "config": c.config,
                    "images_dir": images_dir(),
                });
                (c.name, spec)
            })
            .collect();
        trl_runs("parity", &json!({ "runs": runs })).unwrap_or_else(|e| panic!("TRL reference runs failed: {e:#}"))
    })
}

/// Tokenises `pairs` for `dir` as the trainer's callers do (image names under [`images_dir`]).
pub fn tokenize(dir: &std::path::Path, pairs: &str, max_length: usize) -> Result<train::PairSet> {
    let text = CheckpointText::from_dir(dir)?;
    let folder = images_dir();
    let load = move |name: &str| std::fs::read(folder.join(name)).map_err(|e| format!("{name}: {e}"));
    Ok(text.pair_tokenizer(max_length, &load).parse_jsonl(pairs))
}

/// |a - b| / max(|a|, |b|), with values below 1e-7 in magnitude on both sides counted as equal (the
/// rewards of the first step are exactly 0 on both sides: the policy is the reference).
fn rel(a: f64, b: f64) -> f64 {
    let m = a.abs().max(b.abs());
    if m < 1e-7 { 0.0 } else { (a - b).abs() / m }
}

fn check(name: &str) -> Result<()> {
    let case = cases().into_iter().find(|c| c.name == name).context("unknown case")?;
    let out = trl_dir().join(name);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json"))?)?;

    // tokenisation: the ids TRL trains on
    let dir = checkpoint(case.checkpoint);
    let set = tokenize(&dir, case.pairs, case.config.max_length)?;
    assert!(set.bad.is_empty(), "{name}: unexpected bad pairs {:?}", set.bad);
    let trl_tok = reference["tokenized"].as_array().context("tokenized")?;
    assert_eq!(trl_tok.len(), set.pairs.len(), "{name}: pair count");
    let ids = |v: &Value| -> Vec<u32> {
        v.as_array().map(|a| a.iter().filter_map(|x| x.as_u64().map(|x| x as u32)).collect()).unwrap_or_default()
    };
    let sft = case.config.loss_type == LossType::Sft;
    for (ours, theirs) in set.pairs.iter().zip(trl_tok) {
        let want = TokenizedPair {
            id: ours.id.clone(),
            prompt: ids(&theirs["prompt"]),
            chosen: ids(&theirs["chosen"]),
            // SFT trains on prompt + chosen only
            rejected: if sft { ours.rejected.clone() } else { ids(&theirs["rejected"]) },
            images: ours.images.clone(),
        };
        assert_eq!(ours, &want, "{name}: tokenisation of pair {}", ours.id);
    }

    // training
    let mut trainer = DpoTrainer::new(&dir, set.pairs, case.config.clone(), &LoadOptions::default())?;
    let mut steps: Vec<StepMetrics> = Vec::new();
    trainer.train(None, |m| steps.push(m.clone()))?;
    let trl_steps = reference["steps"].as_array().context("steps")?;
    assert_eq!(steps.len(), trl_steps.len(), "{name}: number of optimizer steps");
    let bf16 = case.config.bf16;
    let (metric_tol, grad_tol, weight_tol) = if bf16 { BF16_TOLERANCE } else { (1e-5, 1e-4, 1e-5) };
    // bf16: rewards are β times differences of log-prob sums, near 0 early on; within BF16_ABS they agree
    let off = |got: f64, want: f64| if bf16 && (got - want).abs() <= BF16_ABS { 0.0 } else { rel(got, want) };
    let mut worst = 0.0f64;
    let mut failures = Vec::new();
    for (ours, theirs) in steps.iter().zip(trl_steps) {
        let p = &ours.pairs;
        let dpo_only = [
            ("rewards/chosen", p.rewards_chosen, "rewards/chosen"),
            ("rewards/rejected", p.rewards_rejected, "rewards/rejected"),
            ("rewards/margins", p.rewards_margins, "rewards/margins"),
            ("rewards/accuracies", p.rewards_accuracies, "rewards/accuracies"),
            ("logps/chosen", p.logps_chosen, "logps/chosen"),
            ("logps/rejected", p.logps_rejected, "logps/rejected"),
        ];
        let common = [("loss", p.loss, "step_loss"), ("learning_rate", ours.learning_rate, "learning_rate")];
        let checked = if sft { &dpo_only[..0] } else { &dpo_only[..] };
        // A reward is β times a difference of two log-prob sums, so its rounding error is that of the sums:
        // it is measured against β × the larger sum, not against the reward, which can be near 0 (an
        // Intel AMX machine put 1.5e-6 between the two f32 rewards of 0.1098, 1.4e-5 relative, where the
        // sums agreed to 3e-7).
        let reward_scale = case.config.beta * p.logps_chosen.abs().max(p.logps_rejected.abs());
        // The plain sigmoid loss is softplus(-z) with z = β Δ, so its rounding error is that of z times
        // 1 - e^-loss: near 0 a tiny loss carries z's whole error (this machine put 4.8e-8 between two
        // losses of 0.0041, 1.2e-5 relative, while the log-prob sums and weights agreed). z's error is that
        // of the four sums in Δ (policy and reference, chosen and rejected), about 2 × reward_scale.
        let plain_sigmoid = case.config.loss_type == LossType::Sigmoid
            && case.config.label_smoothing == 0.0
            && case.config.sft_weight == 0.0;
        // the difference relative to the larger value, or to `scale` (the rounding error's size) if larger
        let against =
            |got: f64, want: f64, scale: f64| (got - want).abs() / got.abs().max(want.abs()).max(scale).max(1e-7);
        for &(label, got, key) in common.iter().chain(checked) {
            let want = theirs[key].as_f64().with_context(|| format!("TRL metric {key}"))?;
            let r = if label.starts_with("rewards/") && label != "rewards/accuracies" {
                against(got, want, reward_scale)
            } else if label == "loss" && plain_sigmoid {
                against(got, want, (1.0 - (-want).exp()) * 2.0 * reward_scale)
            } else {
                rel(got, want)
            };
            worst = worst.max(r);
            let r = if r > metric_tol { off(got, want).min(r) } else { r };
            if r > metric_tol {
                failures.push(format!("step {}: {label} {got} vs TRL {want} (relative {r:e})", ours.step));
            }
        }
        let want = theirs["grad_norm"].as_f64().context("grad_norm")?;
        let r = off(ours.grad_norm, want);
        if r > grad_tol {
            failures.push(format!("step {}: grad_norm {} vs TRL {want} (relative {r:e})", ours.step, ours.grad_norm));
        }
    }

    // final weights
    let trl_weights: HashMap<String, Tensor> =
        Tensor::read_safetensors(out.join("weights.safetensors"))?.into_iter().collect();
    let ours: HashMap<String, &Tensor> = trainer.policy().named_weights().into_iter().collect();
    let mut names: Vec<&String> = trl_weights.keys().collect();
    names.sort();
    assert_eq!(names.len(), ours.len(), "{name}: weight names {names:?}");
    let mut max_diff = 0.0f64;
    let mut moved = 0.0f64;
    let start: HashMap<String, Tensor> = Tensor::read_safetensors(dir.join("model.safetensors"))?.into_iter().collect();
    for n in names {
        let a = ours.get(n).with_context(|| format!("{name}: we have no weight {n}"))?;
        let b = &trl_weights[n];
        let d = (a.to_device(Device::Cpu) - b).abs().max().double_value(&[]);
        max_diff = max_diff.max(d);
        moved = moved.max((b - &start[n].to_kind(Kind::Float)).abs().max().double_value(&[]));
        if d > weight_tol {
            failures.push(format!("weight {n} differs from TRL's by {d:e}"));
        }
    }
    if !failures.is_empty() {
        bail!(
            "{name}: {} differences from TRL (max |weight diff| {max_diff:e}):\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    if moved < 1e-4 {
        bail!("{name}: TRL's weights moved by only {moved:e}; the comparison would show nothing");
    }
    eprintln!(
        "{name}: {} steps, worst metric relative diff {worst:e}, max |weight diff| {max_diff:e} (weights moved up to {moved:e})",
        steps.len()
    );
    if bf16 && !case.config.shared_prompt {
        bf16_forward_is_autocasts(name, sft, &reference, steps.first().context("no steps")?)?;
    }
    Ok(())
}

/// Metrics within 1e-2 relative (or 1e-2 absolute) and weights within 1e-3 absolute of TRL's bf16 run after
/// three steps: the backward passes differ in the order of a few bfloat16 roundings (the forward passes
/// agree to the bit).
const BF16_TOLERANCE: (f64, f64, f64) = (1e-2, 1e-2, 1e-3);
const BF16_ABS: f64 = 1e-2;

/// A bf16 case must show bfloat16 arithmetic placed as torch.autocast places it: the first step's log-probs
/// (the forward pass before any update) equal TRL's bf16 run's, while TRL's float32 run of the same case
/// is far from both (a run that ignored `bf16` would sit at the float32 distance).
fn bf16_forward_is_autocasts(name: &str, sft: bool, reference: &Value, first: &StepMetrics) -> Result<()> {
    let twin: Value =
        serde_json::from_str(&std::fs::read_to_string(trl_dir().join(format!("{name}_f32")).join("metrics.json"))?)?;
    // the forward pass's numbers: the log-probs of both sides (DPO), the cross-entropy (SFT)
    let logps = |v: &Value| -> Result<[f64; 2]> {
        let step = &v["steps"][0];
        let get = |k: &str| step[k].as_f64().with_context(|| format!("{k} of the first step"));
        Ok(if sft { [get("step_loss")?, 0.0] } else { [get("logps/chosen")?, get("logps/rejected")?] })
    };
    let (bf16, f32) = (logps(reference)?, logps(&twin)?);
    let ours = if sft { [first.pairs.loss, 0.0] } else { [first.pairs.logps_chosen, first.pairs.logps_rejected] };
    let ours_gap = rel(ours[0], bf16[0]).max(rel(ours[1], bf16[1]));
    let f32_gap = rel(f32[0], bf16[0]).max(rel(f32[1], bf16[1]));
    eprintln!(
        "{name}: first-step forward (log-probs; SFT: loss) vs TRL bf16: criticloop {ours_gap:e}, TRL float32 {f32_gap:e}"
    );
    if ours_gap > 1e-6 || f32_gap < 1e-5 {
        bail!(
            "{name}: first-step log-probs {ours:?}, TRL bf16 {bf16:?}, TRL float32 {f32:?}: criticloop's must equal \
             TRL's bf16 ones (relative {ours_gap:e} > 1e-6) and differ from the float32 ones ({f32_gap:e} < 1e-5)"
        );
    }
    Ok(())
}

#[test]
fn dpo_parity_sigmoid() -> Result<()> {
    check("sigmoid")
}

#[test]
fn dpo_parity_label_smoothing() -> Result<()> {
    check("label_smoothing")
}

#[test]
fn dpo_parity_robust() -> Result<()> {
    check("robust")
}

#[test]
fn dpo_parity_ipo() -> Result<()> {
    check("ipo")
}

#[test]
fn dpo_parity_hinge() -> Result<()> {
    check("hinge")
}

#[test]
fn dpo_parity_sft_term() -> Result<()> {
    check("sft")
}

#[test]
fn dpo_parity_schedule_accumulation_clipping_tied() -> Result<()> {
    check("schedule_accumulation_clipping")
}

#[test]
fn dpo_parity_precomputed_reference_trainable_subset() -> Result<()> {
    check("precompute_trainable")
}

#[test]
fn dpo_parity_shared_prompt_packing() -> Result<()> {
    check("shared_prompt")
}

#[test]
fn dpo_parity_shared_prompt_precomputed_accumulation_tied() -> Result<()> {
    check("shared_prompt_accumulation")
}

#[test]
fn dpo_parity_chat_template_pairs() -> Result<()> {
    check("chat")
}

#[test]
fn dpo_parity_llava_onevision_with_images() -> Result<()> {
    check("llava")
}

#[test]
fn dpo_parity_llava_onevision_trainable_parts_sft_term() -> Result<()> {
    check("llava_trainable_sft")
}

/// The packed layout (`shared_prompt`: one row per pair, its images once) computes the same sequence
/// log-probs as the unpacked one (each pair's images twice), for a LLaVA-OneVision with images.
#[test]
fn dpo_llava_onevision_packed_layout_gives_the_unpacked_logps() -> Result<()> {
    let dir = checkpoint("llava-ov");
    let set = tokenize(&dir, VISION_PAIRS, 1024)?;
    assert!(set.bad.is_empty(), "{:?}", set.bad);
    let policy = train::PolicyModel::load(&dir, &LoadOptions::default())?;
    let pairs: Vec<&TokenizedPair> = set.pairs.iter().collect();
    let plain = train::logps::PairBatch::new(&pairs, 0, &policy)?.logps(&policy, false)?;
    let packed = train::logps::PairBatch::packed(&pairs, 0, &policy)?.logps(&policy, false)?;
    for (a, b) in [(&plain.chosen, &packed.chosen), (&plain.rejected, &packed.rejected)] {
        let diff = (a - b).abs().max().double_value(&[]);
        let scale = a.abs().max().double_value(&[]);
        assert!(diff < 1e-4 && scale > 1.0, "packed vs unpacked log-probs differ by {diff:e} (scale {scale})");
    }
    Ok(())
}

#[test]
fn dpo_parity_bf16_autocast() -> Result<()> {
    check("bf16")
}

#[test]
fn dpo_parity_bf16_autocast_shared_prompt() -> Result<()> {
    check("bf16_shared_prompt")
}

#[test]
fn dpo_parity_bf16_autocast_llava_onevision() -> Result<()> {
    check("bf16_llava")
}

#[test]
fn dpo_parity_bf16_autocast_sft_mode() -> Result<()> {
    check("bf16_sft_only")
}

#[test]
fn dpo_parity_sft_mode_matches_trl_sft_trainer() -> Result<()> {
    check("sft_only")
}

#[test]
fn dpo_parity_sft_mode_chat_accumulation_matches_trl_sft_trainer() -> Result<()> {
    check("sft_only_accumulation_chat")
}

#[test]
fn dpo_parity_sft_mode_llava_onevision_with_images() -> Result<()> {
    check("sft_only_llava")
}
