//! The round saga: `sampling -> judging -> aggregating -> training -> evaluating -> completed`, with
//! `failed` and `cancelled`. Sampling, judging and aggregating are pipelined per prompt; training
//! waits for every prompt. Every transition is conditional on the state it leaves, so applying an
//! event twice changes nothing, and every task it causes is written to the outbox in the same
//! transaction.

mod fanout;
mod prompts;
mod rounds;

use config::SagaConfig;
use protocol::{Command, Event, EventKind};
use std::collections::BTreeMap;
use store::PgConnection;
use uuid::Uuid;

pub use rounds::start_round;

/// Applies a batch of events inside the caller's transaction. Per-prompt events are grouped by round
/// and kind and applied as one set each (one lock of the round, one outbox write per group); the rest
/// are applied one by one, in order. Causally related events of one prompt never share a batch: a
/// prompt's next event exists only after this transaction's fan-out commits.
pub async fn apply_batch(conn: &mut PgConnection, events: &[Event], saga: &SagaConfig) -> anyhow::Result<()> {
    let mut generated: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    let mut judged: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    let mut aggregated: BTreeMap<Uuid, Vec<(Uuid, bool)>> = BTreeMap::new();
    let mut others = Vec::new();
    for e in events {
        match &e.kind {
            EventKind::Generated { prompt_id } => generated.entry(e.round_id).or_default().push(*prompt_id),
            EventKind::Judged { prompt_id } => judged.entry(e.round_id).or_default().push(*prompt_id),
            EventKind::Aggregated { prompt_id, has_pair } => {
                aggregated.entry(e.round_id).or_default().push((*prompt_id, *has_pair))
            }
            _ => others.push(e),
        }
    }
    for (round, prompts) in generated {
        if let Some(r) = live_round(conn, round).await? {
            prompts::generated(conn, &r, &prompts, saga).await?;
        }
    }
    for (round, prompts) in judged {
        if let Some(r) = live_round(conn, round).await? {
            prompts::judged(conn, &r, &prompts).await?;
        }
    }
    for (round, prompts) in aggregated {
        if let Some(r) = live_round(conn, round).await? {
            prompts::aggregated(conn, &r, &prompts).await?;
        }
    }
    for e in others {
        apply(conn, e, saga).await?;
    }
    Ok(())
}

/// The locked round, unless it is unknown or finished (then its events change nothing).
async fn live_round(conn: &mut PgConnection, id: Uuid) -> anyhow::Result<Option<store::rounds::Round>> {
    match store::rounds::lock(conn, id).await? {
        Some(r) if !r.is_terminal() => Ok(Some(r)),
        Some(_) => Ok(None),
        None => {
            tracing::warn!(round = %id, "event for an unknown round ignored");
            Ok(None)
        }
    }
}

/// Applies one event inside the caller's transaction.
pub async fn apply(conn: &mut PgConnection, event: &Event, saga: &SagaConfig) -> anyhow::Result<()> {
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
        EventKind::Generated { prompt_id } => prompts::generated(conn, &round, &[*prompt_id], saga).await,
        EventKind::Judged { prompt_id } => prompts::judged(conn, &round, &[*prompt_id]).await,
        EventKind::Aggregated { prompt_id, has_pair } => {
            prompts::aggregated(conn, &round, &[(*prompt_id, *has_pair)]).await
        }
        EventKind::TaskFailed { task_key, stage, prompt_id, reason } => match prompt_id {
            Some(p) => prompts::failed(conn, &round, *p, task_key, reason).await,
            None => rounds::fail(conn, &round, &format!("{stage} task {task_key} failed: {reason}")).await,
        },
        EventKind::Trained { checkpoint_id } => rounds::trained(conn, &round, *checkpoint_id).await,
        EventKind::Evaluated { checkpoint_id } => rounds::evaluated(conn, &round, *checkpoint_id).await,
        EventKind::Command { command: Command::Resume } => rounds::resume(conn, &round, saga).await,
        EventKind::Command { command: Command::Pause } => Ok(()),
        EventKind::Command { command: Command::Cancel } => {
            if !round.is_terminal() {
                store::rounds::transition(conn, round.id, &[round.state.as_str()], "cancelled").await?;
            }
            Ok(())
        }
    }
}
