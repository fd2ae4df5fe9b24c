//! The tch evaluator: the round's checkpoint answers the campaign's held-out rows greedily (through the
//! policy, so the checkpoint is loaded once, in the model cache), and the answers are scored against the
//! rows' ground truth ([`crate::suites`]) and, when asked, by the campaign's critic ([`crate::judged`]:
//! relative score against reference answers, comparison with the round-0 policy's answers). Without
//! held-out rows there is nothing to score and no suite is stored.

use std::sync::Arc;

use backend::{BackendError, Critic, CriticSuites, EvalItem, EvaluateRequest, Evaluator, GenerateRequest, Policy};
use serde_json::Value;

use crate::critic::TchCritic;
use crate::policy::TchPolicy;

pub struct TchEvaluator {
    pub(crate) policy: Arc<TchPolicy>,
    pub(crate) critic: Arc<TchCritic>,
}

type Answers = Vec<Result<String, BackendError>>;

impl TchEvaluator {
    /// Greedy answers of `checkpoint` to `items`, one per item.
    fn answers(&self, checkpoint: &str, items: &[EvalItem], max_new_tokens: u32) -> Answers {
        let requests: Vec<GenerateRequest> = items
            .iter()
            .map(|item| GenerateRequest {
                question: item.question.clone(),
                image: item.image.clone(),
                checkpoint_uri: checkpoint.to_string(),
                samples: 1,
                seed: 0,
                temperature: 0.0,
                top_p: 1.0,
                max_new_tokens,
            })
            .collect();
        self.policy
            .generate(&requests)
            .into_iter()
            .map(|r| {
                r.and_then(|samples| {
                    samples.into_iter().next().ok_or_else(|| BackendError::Transient("no answer".into()))
                })
            })
            .collect()
    }

    /// The critic-judged suites: round 0 answers the same rows (greedy, so the same answers every round;
    /// not when this is round 0's own checkpoint), then the critic judges.
    fn judged(
        &self,
        request: &EvaluateRequest,
        answers: &Answers,
        suites: &CriticSuites,
    ) -> Result<Vec<(String, Value)>, BackendError> {
        let span = tracing::info_span!("tch.evaluate.critic", critic = %suites.critic_uri, round0 = %suites.round0_uri);
        let _entered = span.enter();
        let round0 = (suites.round0_uri != request.checkpoint_uri)
            .then(|| self.answers(&suites.round0_uri, &request.items, request.max_new_tokens));
        let plan = crate::judged::plan(&request.items, answers, round0.as_deref(), suites)?;
        let outputs = self.critic.judge(&plan.requests);
        if let [Err(first), ..] = outputs.as_slice()
            && outputs.iter().all(Result::is_err)
        {
            return Err(first.clone());
        }
        Ok(crate::judged::summarise(&plan, &outputs))
    }
}

impl Evaluator for TchEvaluator {
    fn evaluate(&self, request: &EvaluateRequest) -> Result<Vec<(String, Value)>, BackendError> {
        let span =
            tracing::info_span!("tch.evaluate", checkpoint = %request.checkpoint_uri, items = request.items.len());
        let _entered = span.enter();
        if request.items.is_empty() {
            tracing::info!("no held-out rows (the campaign sets no evaluation.dataset_id): nothing to evaluate");
            return Ok(Vec::new());
        }
        let answers = self.answers(&request.checkpoint_uri, &request.items, request.max_new_tokens);
        // a checkpoint that cannot answer at all fails the evaluation (it is retried or dead-lettered);
        // single rows that fail are counted in their suite
        if let [Err(first), ..] = answers.as_slice()
            && answers.iter().all(Result::is_err)
        {
            return Err(first.clone());
        }
        for (item, answer) in request.items.iter().zip(&answers) {
            if let Err(e) = answer {
                tracing::warn!(item = %item.id, error = %e, "held-out row not answered");
            }
        }
        let mut suites = crate::suites::score(&request.items, &answers);
        if let Some(critic) = &request.critic {
            suites.extend(self.judged(request, &answers, critic)?);
        }
        Ok(suites)
    }
}
