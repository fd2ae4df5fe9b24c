//! The FAKE backend: deterministic text from hashes, with configurable latency and failure injection.
//! It exists to drive saga tests and to measure criticloop's own overhead; it is not a model.
//!
//! Failure injection is driven by data, so tests choose exactly which tasks fail: a question containing
//! `[[fake-fail:generate]]` or `[[fake-fail:judge]]` fails that stage every time (transiently;
//! `[[fake-fail:judge-permanent]]` fails the critic call for good), and a base checkpoint
//! whose URI contains `[[fake-fail:train]]` or `[[fake-fail:evaluate]]` fails training or evaluation.

use crate::{
    BackendError, Critic, EvaluateRequest, Evaluator, GenerateRequest, JudgeRequest, Policy, TrainRequest,
    TrainedCheckpoint, Trainer,
};
use critic::OutputFormat;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FakeConfig {
    /// Sleep per batch call of generation and judging.
    pub latency_ms: u64,
    /// Overrides `latency_ms` for generation.
    pub generate_ms: Option<u64>,
    /// Overrides `latency_ms` for judging.
    pub judge_ms: Option<u64>,
    /// Sleep per training run (to exercise leases on long tasks).
    pub train_ms: u64,
    /// Sleep per evaluation.
    pub evaluate_ms: u64,
}

pub struct FakeBackend {
    config: FakeConfig,
}

fn hash(parts: &[&str]) -> u64 {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

fn injected(text: &str, stage: &str) -> bool {
    text.contains(&format!("[[fake-fail:{stage}]]"))
}

fn sleep(ms: u64) {
    if ms > 0 {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

impl FakeBackend {
    pub fn new(config: FakeConfig) -> Self {
        Self { config }
    }

    /// The fake quality of a response: what the fake critic compares.
    pub fn quality(response: &str) -> u64 {
        hash(&["quality", response]) % 10
    }
}

impl Policy for FakeBackend {
    fn generate(&self, batch: &[GenerateRequest]) -> Vec<Result<Vec<String>, BackendError>> {
        sleep(self.config.generate_ms.unwrap_or(self.config.latency_ms));
        batch
            .iter()
            .map(|r| {
                if injected(&r.question, "generate") {
                    return Err(BackendError::Transient("fake backend: injected generation failure".into()));
                }
                Ok((0..r.samples)
                    .map(|i| {
                        let h = hash(&[&r.question, &r.checkpoint_uri, &r.seed.to_string(), &i.to_string()]);
                        format!("fake response {i} ({h:016x}) from {}", r.checkpoint_uri)
                    })
                    .collect())
            })
            .collect()
    }
}

impl Critic for FakeBackend {
    fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>> {
        sleep(self.config.judge_ms.unwrap_or(self.config.latency_ms));
        batch
            .iter()
            .map(|r| {
                if injected(&r.question, "judge-permanent") {
                    return Err(BackendError::Permanent("fake backend: injected permanent judge failure".into()));
                }
                if injected(&r.question, "judge") {
                    return Err(BackendError::Transient("fake backend: injected judge failure".into()));
                }
                let first = Self::quality(&r.first);
                Ok(match &r.second {
                    Some(second) => pairwise_answer(r.format, first, Self::quality(second)),
                    None => pointwise_answer(r.format, first),
                })
            })
            .collect()
    }
}

/// A pairwise answer in `format` preferring the response of higher fake quality.
fn pairwise_answer(format: OutputFormat, a: u64, b: u64) -> String {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let order = a.cmp(&b);
    let pick = |first: &str, second: &str, tie: &str| match order {
        Greater => first.to_string(),
        Less => second.to_string(),
        Equal => tie.to_string(),
    };
    match format {
        OutputFormat::PairwiseLetters => pick("Response A is better. [A]", "Response B is better. [B]", "[Tie]"),
        OutputFormat::WildVision => pick("[[A>B]]", "[[B>A]]", "[[A=B]]"),
        OutputFormat::RefoMb => pick("[[A]]", "[[B]]", "[[C]]"),
        OutputFormat::LlavaWild | OutputFormat::LlavaWilder => format!("{} {}\nScores of both answers.", a + 1, b + 1),
        _ => pick(
            "The first response is more detailed. The better response: [1].",
            "The second response is more accurate. The better response: [2].",
            "Two responses are equally good.",
        ),
    }
}

/// A pointwise answer in `format` scoring the response by its fake quality (0..=9) on the format's scale.
fn pointwise_answer(format: OutputFormat, q: u64) -> String {
    match format {
        OutputFormat::MmHal => format!("The response is mostly grounded.\nRating: {}", q * 6 / 9),
        OutputFormat::MmVet => format!("0.{q}"),
        OutputFormat::DetailedCaption => format!("The caption covers the image. Final Score: {}", q * 10 + 5),
        _ => format!("The response is adequate. Score: {}", q * 10 + 5),
    }
}

impl Trainer for FakeBackend {
    fn train(&self, request: &TrainRequest) -> Result<TrainedCheckpoint, BackendError> {
        if injected(&request.base_uri, "train") {
            return Err(BackendError::Transient("fake backend: injected training failure".into()));
        }
        sleep(self.config.train_ms);
        let digest = hash(&[&request.base_uri, &request.pairs.len().to_string()]);
        // Keep the failure marker of the lineage so a campaign's later rounds inherit it.
        let uri = format!("fake://checkpoint/{digest:016x}");
        Ok(TrainedCheckpoint {
            uri,
            metrics: serde_json::json!({"fake": true, "pairs": request.pairs.len(), "beta": request.beta}),
        })
    }
}

impl Evaluator for FakeBackend {
    fn evaluate(&self, request: &EvaluateRequest) -> Result<Vec<(String, serde_json::Value)>, BackendError> {
        if injected(&request.base_uri, "evaluate") {
            return Err(BackendError::Transient("fake backend: injected evaluation failure".into()));
        }
        sleep(self.config.evaluate_ms);
        let score = (hash(&[&request.checkpoint_uri]) % 1000) as f64 / 10.0;
        Ok(vec![("fake".to_string(), serde_json::json!({"fake": true, "score": score}))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_generation_is_deterministic_and_distinct_per_sample() {
        let b = FakeBackend::new(FakeConfig::default());
        let req = GenerateRequest {
            question: "q".into(),
            image: None,
            checkpoint_uri: "c".into(),
            samples: 5,
            seed: 1,
            temperature: 0.7,
            top_p: 0.9,
            max_new_tokens: 8,
        };
        let a = b.generate(std::slice::from_ref(&req));
        let again = b.generate(&[req]);
        assert_eq!(a, again);
        let samples = a[0].clone().expect("generated");
        let distinct: std::collections::BTreeSet<_> = samples.iter().collect();
        assert_eq!(distinct.len(), 5);
    }

    #[test]
    fn fake_injected_failures_fail_only_marked_items() {
        let b = FakeBackend::new(FakeConfig::default());
        let mk = |q: &str| JudgeRequest {
            prompt: String::new(),
            question: q.into(),
            image: None,
            first: "a".into(),
            second: Some("b".into()),
            critic_uri: "c".into(),
            format: OutputFormat::CriticPairwise,
            truth: None,
        };
        let out = b.judge(&[mk("ok"), mk("x [[fake-fail:judge]]"), mk("y [[fake-fail:judge-permanent]]")]);
        assert!(out[0].is_ok());
        assert!(matches!(out[1], Err(BackendError::Transient(_))));
        assert!(matches!(out[2], Err(BackendError::Permanent(_))));
    }

    /// The fake answers in the format it is asked for: every answer parses, pairwise ones to the
    /// response of higher fake quality, pointwise ones to a score that grows with it.
    #[test]
    fn fake_answers_parse_in_every_format() {
        let b = FakeBackend::new(FakeConfig::default());
        let responses: Vec<String> = (0..40).map(|n| format!("response {n}")).collect();
        for format in OutputFormat::ALL {
            for pair in responses.windows(2) {
                let (first, second) = (&pair[0], &pair[1]);
                let pairwise = format.mode() == critic::Mode::Pairwise;
                let req = JudgeRequest {
                    prompt: String::new(),
                    question: "q".into(),
                    image: None,
                    first: first.clone(),
                    second: pairwise.then(|| second.clone()),
                    critic_uri: "c".into(),
                    format,
                    truth: None,
                };
                let raw = b.judge(&[req]).remove(0).expect("judged");
                let parsed = critic::parse(format, &raw);
                let verdict = parsed.verdict().unwrap_or_else(|| panic!("{format:?}: `{raw}` did not parse"));
                let (qa, qb) = (FakeBackend::quality(first), FakeBackend::quality(second));
                if pairwise {
                    let want = match qa.cmp(&qb) {
                        std::cmp::Ordering::Greater => critic::Preference::First,
                        std::cmp::Ordering::Less => critic::Preference::Second,
                        std::cmp::Ordering::Equal => critic::Preference::Tie,
                    };
                    assert_eq!(verdict.preference(), Some(want), "{format:?}: `{raw}`");
                } else {
                    let critic::Verdict::Score { value } = verdict else { panic!("{format:?}: {verdict:?}") };
                    let (lo, hi) = format.score_range().expect("pointwise formats have a range");
                    assert!((lo..=hi).contains(value), "{format:?}: {value}");
                }
            }
        }
    }
}
