//! Turning a batch of judge messages into backend requests: one request per pair not judged yet,
//! rendered with the campaign's critic template; messages that need no work or can never work are
//! settled up front.

use backend::JudgeRequest;
use critic::OutputFormat;
use protocol::{JudgeTask, Task};
use std::collections::HashMap;
use store::results::JudgeInputs;
use store::rounds::RoundContext;
use uuid::Uuid;

pub enum Early {
    Ack,
    Reject(Task, String),
}

/// Where a request's answer goes.
pub struct Item {
    /// Index of the message in the batch.
    pub message: usize,
    pub round: Uuid,
    pub prompt: Uuid,
    pub i: i32,
    pub j: i32,
    pub format: OutputFormat,
}

pub struct Plan {
    pub requests: Vec<JudgeRequest>,
    pub items: Vec<Item>,
    pub settled: Vec<(usize, Early)>,
}

impl Plan {
    pub fn build(
        tasks: &[(usize, JudgeTask, tracing::Span)],
        contexts: &HashMap<Uuid, RoundContext>,
        inputs: &JudgeInputs,
    ) -> Self {
        let mut plan = Plan { requests: Vec::new(), items: Vec::new(), settled: Vec::new() };
        for (n, task, _) in tasks {
            let key = (task.round_id, task.prompt_id);
            let (Some(ctx), Some(question)) = (contexts.get(&task.round_id), inputs.questions.get(&key)) else {
                plan.reject(*n, task, "the task names a round or prompt that does not exist".into());
                continue;
            };
            if !ctx.wanted() {
                plan.settled.push((*n, Early::Ack));
                continue;
            }
            let Some(template) = critic::templates::get(&ctx.config.critic.template) else {
                plan.reject(*n, task, format!("unknown critic template `{}`", ctx.config.critic.template));
                continue;
            };
            let start = plan.items.len();
            let mut error = None;
            for &[i, j] in &task.pairs {
                let (i, j) = (i as i32, j as i32);
                if inputs.judged.contains(&(task.round_id, task.prompt_id, i, j)) {
                    continue;
                }
                let (Some(first), Some(second)) =
                    (inputs.samples.get(&(key.0, key.1, i)), inputs.samples.get(&(key.0, key.1, j)))
                else {
                    error = Some(format!("pair ({i}, {j}) names a sample that does not exist"));
                    break;
                };
                match template.render(&critic::Fields::pairwise(question, first, second)) {
                    Ok(prompt) => {
                        let image = inputs.images.get(&key).cloned();
                        let prompt =
                            if image.is_some() { critic::templates::with_image_token(&prompt) } else { prompt };
                        plan.requests.push(JudgeRequest {
                            prompt,
                            question: question.clone(),
                            image,
                            first: first.clone(),
                            second: Some(second.clone()),
                            critic_uri: ctx.config.critic.checkpoint.clone(),
                            format: template.format,
                            truth: inputs.truths.get(&key).cloned(),
                        });
                        plan.items.push(Item {
                            message: *n,
                            round: task.round_id,
                            prompt: task.prompt_id,
                            i,
                            j,
                            format: template.format,
                        });
                    }
                    Err(e) => {
                        error = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(error) = error {
                plan.requests.truncate(start);
                plan.items.truncate(start);
                plan.reject(*n, task, error);
            } else if plan.items.len() == start {
                // every pair was judged already: a redelivery after the commit
                plan.settled.push((*n, Early::Ack));
            }
        }
        plan
    }

    fn reject(&mut self, n: usize, task: &JudgeTask, error: String) {
        self.settled.push((n, Early::Reject(Task::Judge(task.clone()), error)));
    }
}
