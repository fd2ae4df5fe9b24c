//! The reward worker: turns a prompt's K(K-1) judgments into rewards r_i and its best/worst pair.

use protocol::{AggregateTask, EventKind, MessageType, Task, WorkQueue};
use std::sync::Arc;
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

impl Handler for RewardHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let mut out = Vec::with_capacity(batch.len());
        let mut tx = self.rt.pool.begin().await?;
        for msg in batch {
            let task: AggregateTask = match protocol::message::decode(&msg.kind, &msg.body) {
                Ok(t) => t,
                Err(e) => {
                    out.push(Disposition::Reject { task: None, error: e.to_string() });
                    continue;
                }
            };
            let span = msg.span(AggregateTask::TYPE);
            let Some(round) = store::rounds::get(&mut tx, task.round_id).await? else {
                out.push(Disposition::Reject { task: Some(Task::Aggregate(task)), error: "unknown round".into() });
                continue;
            };
            if matches!(round.state.as_str(), "failed" | "cancelled") {
                out.push(Disposition::Ack);
                continue;
            }
            let k = round.samples_per_prompt as usize;
            let scores: Vec<(usize, usize, f64)> = store::results::scores_of(&mut tx, task.round_id, task.prompt_id)
                .await?
                .into_iter()
                .filter_map(|(i, j, a)| a.map(|a| (i as usize, j as usize, a)))
                .collect();
            let rewards = critic::rewards(k, &scores);
            let pair = critic::best_worst(&rewards).map(|p| store::results::PairRow {
                chosen: p.chosen as i32,
                rejected: p.rejected as i32,
                chosen_reward: rewards[p.chosen],
                rejected_reward: rewards[p.rejected],
            });
            let has_pair = pair.is_some();
            if store::results::insert_rewards(&mut tx, task.round_id, task.prompt_id, &rewards, pair).await? {
                worker::emit(
                    &mut tx,
                    task.round_id,
                    EventKind::Aggregated { prompt_id: task.prompt_id, has_pair },
                    &span,
                )
                .await?;
            }
            out.push(Disposition::Ack);
        }
        tx.commit().await?;
        Ok(out)
    }
}
