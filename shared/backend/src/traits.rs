#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// Worth another delivery (a flaky device, an injected failure): the message is requeued and
    /// dead-lettered once it reaches the delivery limit.
    #[error("{0}")]
    Transient(String),
    /// Retrying cannot help (bad input): the task is dead-lettered at once.
    #[error("{0}")]
    Permanent(String),
}

#[derive(Debug, Clone)]
pub struct GenerateRequest {
    pub question: String,
    /// The prompt's image reference (`sha256:…` artifact, bare digest or a path), if it has one.
    pub image: Option<String>,
    pub checkpoint_uri: String,
    pub samples: u32,
    pub seed: u64,
    pub temperature: f64,
    pub top_p: f64,
    pub max_new_tokens: u32,
}

pub trait Policy: Send + Sync {
    fn generate(&self, batch: &[GenerateRequest]) -> Vec<Result<Vec<String>, BackendError>>;
}

#[derive(Debug, Clone)]
pub struct JudgeRequest {
    /// The rendered critic prompt.
    pub prompt: String,
    pub question: String,
    /// The image reference (`sha256:…` artifact, bare digest or a path), if the item has one.
    pub image: Option<String>,
    pub first: String,
    /// The second response of a pairwise request; `None` asks for a pointwise judgment of `first`.
    pub second: Option<String>,
    pub critic_uri: String,
    /// The output format the template asks for (real critics follow the prompt; the fake needs it).
    pub format: critic::OutputFormat,
    /// The prompt's ground truth (a generated world's `world` record) where its dataset has one: what the
    /// baseline critics (`baseline:oracle`) judge by. Model critics never see it.
    pub truth: Option<serde_json::Value>,
}

pub trait Critic: Send + Sync {
    /// The critic's raw output text for each request.
    fn judge(&self, batch: &[JudgeRequest]) -> Vec<Result<String, BackendError>>;
}

/// One preference pair of a round.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPair {
    /// Names the pair in reports (the prompt's id).
    pub id: String,
    pub prompt: String,
    /// The prompt's image reference (`sha256:…` artifact or a path), if it has one.
    pub image: Option<String>,
    pub chosen: String,
    pub rejected: String,
}

#[derive(Debug, Clone)]
pub struct TrainRequest {
    /// The starting checkpoint (`sha256:…` directory artifact, or a local folder); also the DPO reference.
    pub base_uri: String,
    pub pairs: Vec<TrainPair>,
    pub beta: f64,
    pub learning_rate: f64,
    /// Passes over the pairs.
    pub epochs: u32,
    /// Seed of the data order.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct TrainedCheckpoint {
    pub uri: String,
    pub metrics: serde_json::Value,
}

pub trait Trainer: Send + Sync {
    fn train(&self, request: &TrainRequest) -> Result<TrainedCheckpoint, BackendError>;
}

#[derive(Debug, Clone)]
pub struct EvaluateRequest {
    pub checkpoint_uri: String,
    pub base_uri: String,
    /// The campaign's held-out rows (empty without an evaluation dataset).
    pub items: Vec<EvalItem>,
    /// Longest answer, in tokens.
    pub max_new_tokens: u32,
    /// The critic-judged suites to run besides the ground-truth ones, if any.
    pub critic: Option<CriticSuites>,
}

/// What the critic-judged suites need: the judge, the pairwise prompt, and the policy to compare with.
#[derive(Debug, Clone, PartialEq)]
pub struct CriticSuites {
    pub critic_uri: String,
    /// The campaign's pairwise critic template (the comparison with round 0 asks it).
    pub pairwise_template: String,
    /// The campaign's starting policy: each round's answers are compared with its answers.
    pub round0_uri: String,
}

/// One held-out row: the policy answers `question` (about `image`) greedily.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalItem {
    pub id: String,
    pub question: String,
    /// `sha256:…` artifact or a path.
    pub image: Option<String>,
    pub reference_answer: Option<String>,
    /// The row's other fields (a generated world's ground truth is under `world`).
    pub extra: Option<serde_json::Value>,
}

pub trait Evaluator: Send + Sync {
    /// (suite, metrics) per suite evaluated.
    fn evaluate(&self, request: &EvaluateRequest) -> Result<Vec<(String, serde_json::Value)>, BackendError>;
}
