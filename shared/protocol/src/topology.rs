//! Where messages go. Work queues carry tasks to workers; `events` carries completions to the
//! orchestrator; `dead` collects what the work queues dead-letter.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkQueue {
    Generate,
    Judge,
    Aggregate,
    Train,
    Evaluate,
    Events,
    /// Judge-job chunks, released by the orchestrator's backlog dispatcher a window at a time.
    Backlog,
    /// Agreement metrics of a judge job whose items are all judged.
    Agreement,
}

impl WorkQueue {
    pub const ALL: [WorkQueue; 8] = [
        Self::Generate,
        Self::Judge,
        Self::Aggregate,
        Self::Train,
        Self::Evaluate,
        Self::Events,
        Self::Backlog,
        Self::Agreement,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Generate => "generate",
            Self::Judge => "judge",
            Self::Aggregate => "aggregate",
            Self::Train => "train",
            Self::Evaluate => "evaluate",
            Self::Events => "events",
            Self::Backlog => "backlog",
            Self::Agreement => "agreement",
        }
    }
}

/// A routing decision: the work queue a message is for. Exchanges and prefixes are the queue layer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub queue: WorkQueue,
}

impl Route {
    pub const fn to(queue: WorkQueue) -> Self {
        Self { queue }
    }
}
