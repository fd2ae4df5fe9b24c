//! A campaign's configuration as users submit it (HTTP, CLI) and as it is stored (jsonb).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignSpec {
    pub name: String,
    pub dataset_id: Uuid,
    /// M: rounds of sample -> judge -> aggregate -> train -> evaluate, chained by checkpoint.
    pub rounds: u32,
    /// K: responses sampled per prompt; K(K-1) ordered pairs are judged.
    #[serde(default = "default_k")]
    pub samples_per_prompt: u32,
    pub policy: PolicySpec,
    pub critic: CriticSpec,
    #[serde(default)]
    pub sampling: SamplingSpec,
    #[serde(default)]
    pub training: TrainingSpec,
    #[serde(default)]
    pub failure_policy: FailurePolicy,
    #[serde(default)]
    pub seed: u64,
    #[serde(default)]
    pub evaluation: EvaluationSpec,
}

fn default_k() -> u32 {
    5
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// The checkpoint round 1 starts from (a path or artifact reference).
    pub checkpoint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CriticSpec {
    pub checkpoint: String,
    #[serde(default = "default_template")]
    pub template: String,
}

fn default_template() -> String {
    "llava-critic/pairwise".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SamplingSpec {
    pub temperature: f64,
    pub top_p: f64,
    pub max_new_tokens: u32,
}

impl Default for SamplingSpec {
    fn default() -> Self {
        // METHOD.md section 3: temperature 0.7, top-p 0.9.
        Self { temperature: 0.7, top_p: 0.9, max_new_tokens: 256 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TrainingSpec {
    pub beta: f64,
    pub learning_rate: f64,
    pub epochs: u32,
}

impl Default for TrainingSpec {
    fn default() -> Self {
        // LLaVA-NeXT's DPO recipe (METHOD.md section 3).
        Self { beta: 0.1, learning_rate: 5e-7, epochs: 1 }
    }
}

/// How each round's checkpoint is evaluated, besides the suites the evaluation backend runs on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EvaluationSpec {
    /// A held-out dataset the new policy answers greedily; rows with ground truth (a generated world's
    /// `world` field) are scored: exact match for short answers, object precision, recall, F1 and
    /// hallucination rate for descriptions.
    pub dataset_id: Option<Uuid>,
    /// Longest answer in tokens (default 64).
    pub max_new_tokens: Option<u32>,
    /// Also have the campaign's critic judge the answers (default true): a relative score against the
    /// rows' reference answers (LLaVA-in-the-Wild's), and win rate and Elo against the answers of the
    /// campaign's starting policy (WildVision-Bench's), with the campaign's pairwise template.
    pub critic_judged: bool,
    /// The critic checkpoint that judges the answers, when it is not the campaign's critic: a campaign
    /// judged by a baseline (`baseline:oracle`, `baseline:random`) names the model critic here, so its
    /// critic-judged scores compare with those of a critic-driven campaign.
    pub critic: Option<String>,
}

impl Default for EvaluationSpec {
    fn default() -> Self {
        Self { dataset_id: None, max_new_tokens: None, critic_judged: true, critic: None }
    }
}

/// What a round does when prompts fail for good (their tasks dead-lettered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum FailurePolicy {
    /// Drop failed prompts from the round while they stay within `max_failed_fraction` of it.
    Skip { max_failed_fraction: f64 },
    /// Any failed prompt fails the round.
    FailRound,
}

impl Default for FailurePolicy {
    fn default() -> Self {
        Self::Skip { max_failed_fraction: 0.05 }
    }
}

impl FailurePolicy {
    /// Whether `failed` of `total` prompts is still acceptable.
    pub fn tolerates(&self, failed: u32, total: u32) -> bool {
        match self {
            Self::FailRound => failed == 0,
            Self::Skip { max_failed_fraction } => f64::from(failed) <= max_failed_fraction * f64::from(total),
        }
    }
}

/// A field that failed validation and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl CampaignSpec {
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut fail =
            |field: &str, message: &str| errors.push(FieldError { field: field.into(), message: message.into() });
        if self.name.trim().is_empty() {
            fail("name", "must not be empty");
        }
        if self.rounds == 0 {
            fail("rounds", "must be at least 1");
        }
        if self.rounds > 1000 {
            fail("rounds", "must be at most 1000");
        }
        if self.samples_per_prompt < 2 {
            fail("samples_per_prompt", "K must be at least 2: pairs need two responses");
        }
        if self.samples_per_prompt > 64 {
            fail("samples_per_prompt", "K must be at most 64");
        }
        if self.policy.checkpoint.trim().is_empty() {
            fail("policy.checkpoint", "must not be empty");
        }
        if self.critic.checkpoint.trim().is_empty() {
            fail("critic.checkpoint", "must not be empty");
        }
        if let Some(critic) = &self.evaluation.critic
            && critic.trim().is_empty()
        {
            fail("evaluation.critic", "must not be empty when given");
        }
        let evaluation_critic = self.evaluation.critic.as_deref().unwrap_or(&self.critic.checkpoint);
        if self.evaluation.dataset_id.is_some()
            && self.evaluation.critic_judged
            && critic::baselines::is_baseline(evaluation_critic)
        {
            fail(
                "evaluation.critic",
                "a baseline critic cannot judge the held-out answers: name a model critic here, \
                 or set evaluation.critic_judged to false",
            );
        }
        if !(self.sampling.temperature >= 0.0 && self.sampling.temperature <= 10.0) {
            fail("sampling.temperature", "must be between 0 and 10");
        }
        if !(self.sampling.top_p > 0.0 && self.sampling.top_p <= 1.0) {
            fail("sampling.top_p", "must be in (0, 1]");
        }
        if self.sampling.max_new_tokens == 0 {
            fail("sampling.max_new_tokens", "must be at least 1");
        }
        if !(self.training.beta > 0.0 && self.training.beta.is_finite()) {
            fail("training.beta", "must be a positive number");
        }
        if !(self.training.learning_rate > 0.0 && self.training.learning_rate.is_finite()) {
            fail("training.learning_rate", "must be a positive number");
        }
        if let FailurePolicy::Skip { max_failed_fraction } = self.failure_policy
            && !(0.0..=1.0).contains(&max_failed_fraction)
        {
            fail("failure_policy.max_failed_fraction", "must be between 0 and 1");
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}
