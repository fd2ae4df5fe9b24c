//! Tasks: work for the workers. Each carries its natural key, so a redelivery is recognisable.

use crate::message::MessageType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Sample K responses of one prompt from the round's policy checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateTask {
    pub round_id: Uuid,
    pub prompt_id: Uuid,
    pub checkpoint_id: Uuid,
    pub samples: u32,
    /// [`GenerateTask::sampling_seed`] of the campaign, round and prompt.
    pub seed: u64,
}

impl GenerateTask {
    /// The seed a prompt's samples are drawn with in a round: the campaign's seed, the round number and
    /// the prompt id mixed (SplitMix64's finaliser), so different prompts draw independent samples and a
    /// rerun of the round draws the same ones.
    pub fn sampling_seed(campaign_seed: u64, round: u32, prompt: Uuid) -> u64 {
        let (hi, lo) = prompt.as_u64_pair();
        let mut z = campaign_seed.wrapping_mul(1_000_003).wrapping_add(u64::from(round)) ^ hi.rotate_left(17) ^ lo;
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Judge ordered pairs (i, j) of one prompt's samples with the critic: response i shown first. Each
/// pair is one judge task with its own natural key (round, prompt, i, j); a message carries one or
/// more of a prompt's pairs (the orchestrator's `saga.judge_pairs_per_message`), so the broker's
/// per-message cost is paid once per group rather than once per critic call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeTask {
    pub round_id: Uuid,
    pub prompt_id: Uuid,
    pub pairs: Vec<[u32; 2]>,
}

/// Turn a prompt's judgments into rewards and its best/worst pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AggregateTask {
    pub round_id: Uuid,
    pub prompt_id: Uuid,
}

/// Train the round's policy on its pairs, starting from the base checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainTask {
    pub round_id: Uuid,
    pub base_checkpoint_id: Uuid,
}

/// Evaluate the checkpoint a round produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvaluateTask {
    pub round_id: Uuid,
    pub checkpoint_id: Uuid,
}

/// Judge one chunk of a judge job's items (positions `chunk * chunk_items ..`). The orchestrator's
/// backlog dispatcher releases chunks a window at a time, by the jobs' priorities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgeChunkTask {
    pub job_id: Uuid,
    pub chunk: u32,
}

/// Compute a finished judge job's agreement metrics against its labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementTask {
    pub job_id: Uuid,
}

impl MessageType for GenerateTask {
    const TYPE: &'static str = "generate.v1";
}
impl MessageType for JudgeTask {
    const TYPE: &'static str = "judge.v1";
}
impl MessageType for AggregateTask {
    const TYPE: &'static str = "aggregate.v1";
}
impl MessageType for TrainTask {
    const TYPE: &'static str = "train.v1";
}
impl MessageType for EvaluateTask {
    const TYPE: &'static str = "evaluate.v1";
}
impl MessageType for JudgeChunkTask {
    const TYPE: &'static str = "judge_chunk.v1";
}
impl MessageType for AgreementTask {
    const TYPE: &'static str = "agreement.v1";
}

/// Any task, for code that handles them generically (dead letters, failure records).
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    Generate(GenerateTask),
    Judge(JudgeTask),
    Aggregate(AggregateTask),
    Train(TrainTask),
    Evaluate(EvaluateTask),
    JudgeChunk(JudgeChunkTask),
    Agreement(AgreementTask),
}

impl Task {
    pub fn decode(kind: &str, body: &[u8]) -> Result<Self, crate::ProtocolError> {
        use crate::message::decode;
        Ok(match kind {
            GenerateTask::TYPE => Self::Generate(decode(kind, body)?),
            JudgeTask::TYPE => Self::Judge(decode(kind, body)?),
            AggregateTask::TYPE => Self::Aggregate(decode(kind, body)?),
            TrainTask::TYPE => Self::Train(decode(kind, body)?),
            EvaluateTask::TYPE => Self::Evaluate(decode(kind, body)?),
            JudgeChunkTask::TYPE => Self::JudgeChunk(decode(kind, body)?),
            AgreementTask::TYPE => Self::Agreement(decode(kind, body)?),
            other => return Err(crate::ProtocolError::UnknownType(other.to_string())),
        })
    }

    /// The round a task belongs to; `None` for judge-job work.
    pub fn round_id(&self) -> Option<Uuid> {
        match self {
            Self::Generate(t) => Some(t.round_id),
            Self::Judge(t) => Some(t.round_id),
            Self::Aggregate(t) => Some(t.round_id),
            Self::Train(t) => Some(t.round_id),
            Self::Evaluate(t) => Some(t.round_id),
            Self::JudgeChunk(_) | Self::Agreement(_) => None,
        }
    }

    /// The judge job a task belongs to; `None` for round work.
    pub fn job_id(&self) -> Option<Uuid> {
        match self {
            Self::JudgeChunk(t) => Some(t.job_id),
            Self::Agreement(t) => Some(t.job_id),
            _ => None,
        }
    }

    /// The prompt a task belongs to, for per-prompt tasks.
    pub fn prompt_id(&self) -> Option<Uuid> {
        match self {
            Self::Generate(t) => Some(t.prompt_id),
            Self::Judge(t) => Some(t.prompt_id),
            Self::Aggregate(t) => Some(t.prompt_id),
            Self::Train(_) | Self::Evaluate(_) | Self::JudgeChunk(_) | Self::Agreement(_) => None,
        }
    }

    /// The natural key: equal for every delivery of the same piece of work.
    pub fn key(&self) -> String {
        match self {
            Self::Generate(t) => format!("generate/{}/{}", t.round_id, t.prompt_id),
            Self::Judge(t) => {
                let pairs: Vec<String> = t.pairs.iter().map(|[i, j]| format!("{i}-{j}")).collect();
                format!("judge/{}/{}/{}", t.round_id, t.prompt_id, pairs.join(","))
            }
            Self::Aggregate(t) => format!("aggregate/{}/{}", t.round_id, t.prompt_id),
            Self::Train(t) => format!("train/{}", t.round_id),
            Self::Evaluate(t) => format!("evaluate/{}/{}", t.round_id, t.checkpoint_id),
            Self::JudgeChunk(t) => format!("judge_chunk/{}/{}", t.job_id, t.chunk),
            Self::Agreement(t) => format!("agreement/{}", t.job_id),
        }
    }

    pub fn stage(&self) -> &'static str {
        match self {
            Self::Generate(_) => "generate",
            Self::Judge(_) => "judge",
            Self::Aggregate(_) => "aggregate",
            Self::Train(_) => "train",
            Self::Evaluate(_) => "evaluate",
            Self::JudgeChunk(_) => "judge_chunk",
            Self::Agreement(_) => "agreement",
        }
    }
}
