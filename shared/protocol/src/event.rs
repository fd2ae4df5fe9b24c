//! Events: what workers and the API tell the orchestrator. Each names the round (and prompt) it is
//! about; the orchestrator applies them as conditional state transitions, so duplicates are no-ops.

use crate::message::MessageType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// No `deny_unknown_fields` here: serde does not support it together with `flatten`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub round_id: Uuid,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// The round's rows exist; the orchestrator fans out its generate tasks.
    RoundCreated,
    /// A prompt's K samples are stored.
    Generated { prompt_id: Uuid },
    /// Every ordered pair of a prompt has a stored judgment.
    Judged { prompt_id: Uuid },
    /// A prompt's rewards (and pair, if any) are stored.
    Aggregated { prompt_id: Uuid, has_pair: bool },
    /// The round's training produced a checkpoint.
    Trained { checkpoint_id: Uuid },
    /// The round's checkpoint is evaluated.
    Evaluated { checkpoint_id: Uuid },
    /// A task will not be retried any more (dead-lettered or rejected as malformed).
    TaskFailed { task_key: String, stage: String, prompt_id: Option<Uuid>, reason: String },
    /// An operator asked to cancel, pause or resume the round's campaign.
    Command { command: Command },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Cancel,
    Pause,
    Resume,
}

impl MessageType for Event {
    const TYPE: &'static str = "event.v1";
}
