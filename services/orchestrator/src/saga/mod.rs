//! The round saga: `sampling -> judging -> aggregating -> training -> evaluating -> completed`, with
//! `failed` and `cancelled`. Sampling, judging and aggregating are pipelined per prompt; training
//! waits for every prompt. Every transition is conditional on the state it leaves, so applying an
//! event twice changes nothing, and every task it causes is written to the outbox in the same
//! transaction.

mod fanout;
mod prompts;
mod rounds;

use protocol::{Command, Event, EventKind};
use store::PgConnection;

pub use rounds::start_round;

/// Applies one event inside the caller's transaction.
pub async fn apply(conn: &mut PgConnection, event: &Event) -> anyhow::Result<()> {
    // Every handler locks the round row first, then prompt rows: one order, no deadlocks.
    let Some(round) = store::rounds::lock(conn, event.round_id).await? else {
        tracing::warn!(round = %event.round_id, "event for an unknown round ignored");
        return Ok(());
    };
    if round.is_terminal() && !matches!(event.kind, EventKind::Command { .. }) {
        tracing::debug!(round = %round.id, state = %round.state, "event for a finished round ignored");
        return Ok(());
    }
    match &event.kind {
        EventKind::RoundCreated => rounds::start_round(conn, &round).await,
        EventKind::Generated { prompt_id } => prompts::generated(conn, &round, *prompt_id).await,
        EventKind::Judged { prompt_id } => prompts::judged(conn, &round, *prompt_id).await,
        EventKind::Aggregated { prompt_id, has_pair } => prompts::aggregated(conn, &round, *prompt_id, *has_pair).await,
        EventKind::TaskFailed { task_key, stage, prompt_id, reason } => match prompt_id {
            Some(p) => prompts::failed(conn, &round, *p, task_key, reason).await,
            None => rounds::fail(conn, &round, &format!("{stage} task {task_key} failed: {reason}")).await,
        },
        EventKind::Trained { checkpoint_id } => rounds::trained(conn, &round, *checkpoint_id).await,
        EventKind::Evaluated { checkpoint_id } => rounds::evaluated(conn, &round, *checkpoint_id).await,
        EventKind::Command { command: Command::Resume } => rounds::resume(conn, &round).await,
        EventKind::Command { command: Command::Pause } => Ok(()),
        EventKind::Command { command: Command::Cancel } => {
            if !round.is_terminal() {
                store::rounds::transition(conn, round.id, &[round.state.as_str()], "cancelled").await?;
            }
            Ok(())
        }
    }
}
