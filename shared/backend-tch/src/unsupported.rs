//! The parts of the tch backend not built yet: every call fails permanently, saying so.

use backend::{BackendError, Critic, EvaluateRequest, Evaluator, GenerateRequest, JudgeRequest, Policy};

pub struct Unsupported;

fn not_built(part: &str) -> BackendError {
    BackendError::Permanent(format!(
        "the tch backend has no {part} yet (only the DPO trainer); run this service with CRITICLOOP_BACKEND__KIND=fake"
    ))
}

impl Policy for Unsupported {
    fn generate(&self, batch: &[GenerateRequest]) -> Vec<Result<Vec<String>, BackendError>> {
        batch.iter().map(|_| Err(not_built("policy"))).collect()
    }
}

impl Critic for Unsupported {
    fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>> {
        batch.iter().map(|_| Err(not_built("critic"))).collect()
    }
}

impl Evaluator for Unsupported {
    fn evaluate(&self, _: &EvaluateRequest) -> Result<Vec<(String, serde_json::Value)>, BackendError> {
        Err(not_built("evaluator"))
    }
}
