//! The part of the tch backend not built yet, the evaluator: every call fails permanently, saying so.

use backend::{BackendError, EvaluateRequest, Evaluator};

pub struct Unsupported;

fn not_built(part: &str) -> BackendError {
    BackendError::Permanent(format!(
        "the tch backend has no {part} yet (policy, critic and DPO trainer only); run this service with \
         CRITICLOOP_BACKEND__KIND=fake"
    ))
}

impl Evaluator for Unsupported {
    fn evaluate(&self, _: &EvaluateRequest) -> Result<Vec<(String, serde_json::Value)>, BackendError> {
        Err(not_built("evaluator"))
    }
}
