//! The reward worker: turns each prompt's K(K-1) judgments into rewards r_i and its best/worst pair.
//! A batch of prompts is read, computed and written in one transaction.

use protocol::{AggregateTask, EventKind, Task, WorkQueue};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;
use worker::{Disposition, Handler, Incoming, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let rt = Runtime::start("reward", settings).await?;
    let handler = Arc::new(RewardHandler { rt: rt.clone() });
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Aggregate, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct RewardHandler {
    rt: Runtime,
}

/// Rewards and pair of one prompt from its judged ordered pairs (unparsed verdicts add nothing).
pub fn aggregate(k: usize, judgments: &[(i32, i32, Option<f64>)]) -> (Vec<f64>, Option<store::results::PairRow>) {
    let scores: Vec<(usize, usize, f64)> =
        judgments.iter().filter_map(|&(i, j, a)| a.map(|a| (i as usize, j as usize, a))).collect();
    let rewards = critic::rewards(k, &scores);
    let pair = critic::best_worst(&rewards).map(|p| store::results::PairRow {
        chosen: p.chosen as i32,
        rejected: p.rejected as i32,
        chosen_reward: rewards[p.chosen],
        rejected_reward: rewards[p.rejected],
    });
    (rewards, pair)
}

impl Handler for RewardHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let worker::Decoded { messages: tasks, dispositions: mut out } = worker::Decoded::<AggregateTask>::of(batch);
        let mut tx = self.rt.pool.begin().await?;
        let round_ids: Vec<Uuid> = tasks.iter().map(|t| t.1.round_id).collect::<HashSet<_>>().into_iter().collect();
        let mut rounds = std::collections::HashMap::new();
        for id in round_ids {
            if let Some(r) = store::rounds::get(&mut tx, id).await? {
                rounds.insert(id, r);
            }
        }
        let keys: Vec<(Uuid, Uuid)> = tasks.iter().map(|t| (t.1.round_id, t.1.prompt_id)).collect();
        let judgments = store::results::scores_of(&mut tx, &keys).await?;
        let mut rows = Vec::new();
        let mut wanted = Vec::new();
        for (n, task, span) in tasks {
            let Some(round) = rounds.get(&task.round_id) else {
                out[n] = Some(Disposition::Reject { task: Some(Task::Aggregate(task)), error: "unknown round".into() });
                continue;
            };
            out[n] = Some(Disposition::Ack);
            if matches!(round.state.as_str(), "failed" | "cancelled") {
                continue;
            }
            let empty = Vec::new();
            let js = judgments.get(&(task.round_id, task.prompt_id)).unwrap_or(&empty);
            let (rewards, pair) = aggregate(round.samples_per_prompt as usize, js);
            wanted.push((task.round_id, task.prompt_id, pair.is_some(), span));
            rows.push(store::results::NewRewards { round: task.round_id, prompt: task.prompt_id, rewards, pair });
        }
        let fresh = store::results::insert_rewards(&mut tx, &rows).await?;
        let mut events = worker::Emitter::default();
        for (round, prompt, has_pair, span) in wanted {
            if fresh.contains(&(round, prompt)) {
                events.push(round, EventKind::Aggregated { prompt_id: prompt, has_pair }, &span);
            }
        }
        events.write(&mut tx).await?;
        tx.commit().await?;
        Ok(worker::settled(out))
    }
}
