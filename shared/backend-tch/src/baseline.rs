//! The baseline critics, for the controls of a critic-driven campaign: a campaign whose
//! `critic.checkpoint` is `baseline:oracle` or `baseline:random` is judged without a model.
//!
//! - `baseline:oracle` judges by the ground truth of a generated world (the prompt's `world` record,
//!   [`backend::JudgeRequest::truth`]) and writes the judgment a perfect critic would
//!   (`world::pairwise_judgment`: reasons, then LLaVA-Critic's verdict sentence), so its pairs are the
//!   oracle pairs, the upper bound of what a critic can give DPO. A prompt without a ground truth fails
//!   permanently, naming the reason.
//! - `baseline:random` says "[1]" or "[2]" by a hash of the question and the two responses (the same
//!   pair always gets the same verdict, so a redelivery judges alike), so its pairs are random pairs.
//!
//! Both answer in LLaVA-Critic's pairwise wording and are parsed like any critic's output. Every other
//! critic reference goes to the wrapped model critic, in one batch.

use std::sync::Arc;

use backend::{BackendError, Critic, JudgeRequest};
pub use critic::baselines::{ORACLE, RANDOM};
use sha2::{Digest, Sha256};

/// A critic that answers the baseline references itself and hands the rest to `inner`.
pub struct BaselineCritic {
    pub inner: Arc<dyn Critic>,
}

enum Route {
    Baseline(Result<String, BackendError>),
    Model(usize),
}

impl Critic for BaselineCritic {
    fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>> {
        // The common case, a batch for model critics only, goes to the model whole and uncopied.
        if !batch.iter().any(names_baseline) {
            return self.inner.judge(batch);
        }
        let mut model = Vec::new();
        let routes: Vec<Route> = batch
            .iter()
            .map(|r| match baseline(r) {
                Some(answer) => Route::Baseline(answer),
                None => {
                    model.push(r.clone());
                    Route::Model(model.len() - 1)
                }
            })
            .collect();
        let mut judged: Vec<Option<Result<String, BackendError>>> =
            if model.is_empty() { Vec::new() } else { self.inner.judge(&model).into_iter().map(Some).collect() };
        routes
            .into_iter()
            .map(|route| match route {
                Route::Baseline(answer) => answer,
                Route::Model(n) => judged
                    .get_mut(n)
                    .and_then(Option::take)
                    .unwrap_or_else(|| Err(BackendError::Transient("the critic returned too few answers".into()))),
            })
            .collect()
    }
}

fn names_baseline(request: &JudgeRequest) -> bool {
    matches!(request.critic_uri.trim(), ORACLE | RANDOM)
}

/// The baseline's answer to `request`, or `None` when it names a model critic.
fn baseline(request: &JudgeRequest) -> Option<Result<String, BackendError>> {
    if !names_baseline(request) {
        return None;
    }
    let kind = request.critic_uri.trim();
    let Some(second) = &request.second else {
        return Some(Err(BackendError::Permanent(format!("{kind} judges pairs only (a pointwise request came)"))));
    };
    if kind == RANDOM {
        let digest = Sha256::new()
            .chain_update(request.question.as_bytes())
            .chain_update([0])
            .chain_update(request.first.as_bytes())
            .chain_update([0])
            .chain_update(second.as_bytes())
            .finalize();
        let pick = if digest[0] & 1 == 0 { 1 } else { 2 };
        return Some(Ok(format!("A random verdict.\nThe better response: [{pick}].")));
    }
    let Some(truth) = request.truth.as_ref().and_then(world::parse_truth) else {
        return Some(Err(BackendError::Permanent(format!(
            "{ORACLE} needs prompts with a generated world's ground truth (a `world` field); this one has none"
        ))));
    };
    Some(Ok(world::pairwise_judgment(&request.question, &truth, &request.first, second).1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use critic::{OutputFormat, Verdict};

    struct Echo;
    impl Critic for Echo {
        fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>> {
            batch.iter().map(|r| Ok(format!("model saw {}", r.first))).collect()
        }
    }

    fn request(critic: &str, first: &str, second: &str, truth: Option<serde_json::Value>) -> JudgeRequest {
        JudgeRequest {
            prompt: String::new(),
            question: "What colour is the circle?".into(),
            image: None,
            first: first.into(),
            second: Some(second.into()),
            critic_uri: critic.into(),
            format: OutputFormat::CriticPairwise,
            truth,
        }
    }

    fn verdict(raw: &str) -> Verdict {
        critic::parse(OutputFormat::CriticPairwise, raw).verdict().cloned().expect("parses")
    }

    #[test]
    fn the_oracle_follows_the_ground_truth_and_model_critics_pass_through_in_order() {
        let item = world::World::items(3, 40, &world::WorldConfig::default())
            .expect("items")
            .into_iter()
            .find(|i| i.truth.answer.is_some())
            .expect("a short question");
        let truth = world::dataset::truth_json(&item.truth).expect("truth");
        let right = item.truth.answer.clone().expect("answer");
        let critic = BaselineCritic { inner: Arc::new(Echo) };
        let out = critic.judge(&[
            request(ORACLE, "certainly not this", &right, Some(serde_json::json!({ "world": truth.clone() }))),
            request("/models/critic", "a", "b", None),
            request(ORACLE, &right, "certainly not this", Some(truth)),
            request(ORACLE, "a", "b", None),
        ]);
        assert_eq!(verdict(out[0].as_ref().expect("judged")), Verdict::Second);
        assert_eq!(out[1].as_ref().expect("passed through"), "model saw a");
        assert_eq!(verdict(out[2].as_ref().expect("judged")), Verdict::First);
        assert!(matches!(&out[3], Err(BackendError::Permanent(e)) if e.contains("ground truth")), "{:?}", out[3]);
        let models = critic.judge(&[request("/models/critic", "x", "y", None), request("/m", "z", "w", None)]);
        let models: Vec<&str> = models.iter().map(|r| r.as_deref().expect("passed through")).collect();
        assert_eq!(models, ["model saw x", "model saw z"]);
    }

    #[test]
    fn the_random_critic_is_deterministic_per_pair_and_picks_both_sides() {
        let critic = BaselineCritic { inner: Arc::new(Echo) };
        let requests: Vec<JudgeRequest> =
            (0..200).map(|n| request(RANDOM, &format!("answer {n}"), &format!("other {n}"), None)).collect();
        let once: Vec<Verdict> = critic.judge(&requests).iter().map(|r| verdict(r.as_ref().expect("ok"))).collect();
        let again: Vec<Verdict> = critic.judge(&requests).iter().map(|r| verdict(r.as_ref().expect("ok"))).collect();
        assert_eq!(once, again);
        let firsts = once.iter().filter(|v| **v == Verdict::First).count();
        assert!((70..=130).contains(&firsts), "{firsts} of 200 picked the first response");
        assert!(once.iter().all(|v| matches!(v, Verdict::First | Verdict::Second)));
    }
}
