//! Wire types: every message that crosses RabbitMQ, with its version, and the names of the queues it
//! travels on. Only this crate defines wire formats; services and libraries import them from here.

pub mod campaign;
pub mod event;
pub mod judge_job;
pub mod message;
pub mod task;
pub mod topology;

pub use campaign::{
    CampaignSpec, CriticSpec, EvaluationSpec, FailurePolicy, FieldError, PolicySpec, SamplingSpec, TrainingSpec,
};
pub use event::{Command, Event, EventKind};
pub use judge_job::{JudgeItem, JudgeJobParams, Label, LabelPreference, LineError};
pub use message::{Envelope, MessageType, ProtocolError};
pub use task::{AggregateTask, AgreementTask, EvaluateTask, GenerateTask, JudgeChunkTask, JudgeTask, Task, TrainTask};
pub use topology::{Route, WorkQueue};
