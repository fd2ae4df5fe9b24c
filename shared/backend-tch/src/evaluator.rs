//! The tch evaluator: the round's checkpoint answers the campaign's held-out rows greedily (through the
//! policy, so the checkpoint is loaded once, in the model cache), and the answers are scored
//! ([`crate::suites`]). Without held-out rows there is nothing to score and no suite is stored.

use std::sync::Arc;

use backend::{BackendError, EvaluateRequest, Evaluator, GenerateRequest, Policy};
use serde_json::Value;

use crate::policy::TchPolicy;

pub struct TchEvaluator {
    pub(crate) policy: Arc<TchPolicy>,
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
        let requests: Vec<GenerateRequest> = request
            .items
            .iter()
            .map(|item| GenerateRequest {
                question: item.question.clone(),
                image: item.image.clone(),
                checkpoint_uri: request.checkpoint_uri.clone(),
                samples: 1,
                seed: 0,
                temperature: 0.0,
                top_p: 1.0,
                max_new_tokens: request.max_new_tokens,
            })
            .collect();
        let answers: Vec<Result<String, BackendError>> = self
            .policy
            .generate(&requests)
            .into_iter()
            .map(|r| {
                r.and_then(|samples| {
                    samples.into_iter().next().ok_or_else(|| BackendError::Transient("no answer".into()))
                })
            })
            .collect();
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
        Ok(crate::suites::score(&request.items, &answers))
    }
}
