//! The tasks a transition causes, as outbox envelopes.

use protocol::{AggregateTask, Envelope, EvaluateTask, GenerateTask, JudgeTask, Route, TrainTask, WorkQueue};
use store::campaigns::Campaign;
use store::rounds::Round;
use uuid::Uuid;

pub fn generate(campaign: &Campaign, round: &Round, prompts: &[Uuid]) -> Vec<Envelope> {
    prompts
        .iter()
        .map(|&prompt_id| {
            Envelope::new(
                Route::to(WorkQueue::Generate),
                &GenerateTask {
                    round_id: round.id,
                    prompt_id,
                    checkpoint_id: round.base_checkpoint_id,
                    samples: round.samples_per_prompt as u32,
                    seed: GenerateTask::sampling_seed(campaign.config.seed, round.number as u32, prompt_id),
                },
            )
        })
        .collect()
}

/// All K(K-1) ordered pairs (both orders are judged to cancel position bias), `per_message` to a
/// message (0: all of the prompt's pairs in one).
pub fn judge(round: &Round, prompt: Uuid, per_message: usize) -> Vec<Envelope> {
    let k = round.samples_per_prompt as u32;
    let pairs: Vec<[u32; 2]> = (0..k).flat_map(|i| (0..k).filter(move |&j| j != i).map(move |j| [i, j])).collect();
    let size = if per_message == 0 { pairs.len().max(1) } else { per_message };
    pairs
        .chunks(size)
        .map(|chunk| {
            Envelope::new(
                Route::to(WorkQueue::Judge),
                &JudgeTask { round_id: round.id, prompt_id: prompt, pairs: chunk.to_vec() },
            )
        })
        .collect()
}

pub fn aggregate(round: &Round, prompt: Uuid) -> Envelope {
    Envelope::new(Route::to(WorkQueue::Aggregate), &AggregateTask { round_id: round.id, prompt_id: prompt })
}

pub fn train(round: &Round) -> Envelope {
    Envelope::new(
        Route::to(WorkQueue::Train),
        &TrainTask { round_id: round.id, base_checkpoint_id: round.base_checkpoint_id },
    )
}

pub fn evaluate(round: &Round, checkpoint: Uuid) -> Envelope {
    Envelope::new(Route::to(WorkQueue::Evaluate), &EvaluateTask { round_id: round.id, checkpoint_id: checkpoint })
}
