//! Per-prompt transitions: each moves one prompt one step and fans out its next tasks.

use super::{fanout, rounds};
use store::PgConnection;
use store::rounds::Round;
use uuid::Uuid;

fn trace() -> Option<String> {
    telemetry::current_traceparent()
}

pub async fn generated(conn: &mut PgConnection, round: &Round, prompt: Uuid) -> anyhow::Result<()> {
    let next = if round.paused { "generated" } else { "judging" };
    if !store::progress::transition(conn, round.id, prompt, "sampling", next).await? {
        return Ok(());
    }
    if !round.paused {
        store::outbox::enqueue(conn, &fanout::judge(round, prompt), trace().as_deref()).await?;
    }
    let round = store::rounds::add_progress(conn, round.id, 1, 0, 0, 0, 0).await?;
    rounds::advance_stage(conn, &round).await
}

pub async fn judged(conn: &mut PgConnection, round: &Round, prompt: Uuid) -> anyhow::Result<()> {
    let next = if round.paused { "judged" } else { "aggregating" };
    if !store::progress::transition(conn, round.id, prompt, "judging", next).await? {
        return Ok(());
    }
    if !round.paused {
        store::outbox::enqueue(conn, &[fanout::aggregate(round, prompt)], trace().as_deref()).await?;
    }
    let round = store::rounds::add_progress(conn, round.id, 0, 1, 0, 0, 0).await?;
    rounds::advance_stage(conn, &round).await
}

pub async fn aggregated(conn: &mut PgConnection, round: &Round, prompt: Uuid, has_pair: bool) -> anyhow::Result<()> {
    if !store::progress::transition(conn, round.id, prompt, "aggregating", "aggregated").await? {
        return Ok(());
    }
    let round = store::rounds::add_progress(conn, round.id, 0, 0, 1, 0, i32::from(has_pair)).await?;
    rounds::advance_stage(conn, &round).await
}

/// A prompt's task died: the prompt leaves the round, counted as past every stage it had not reached.
pub async fn failed(
    conn: &mut PgConnection,
    round: &Round,
    prompt: Uuid,
    task: &str,
    reason: &str,
) -> anyhow::Result<()> {
    let Some(was) = store::progress::fail(conn, round.id, prompt).await? else {
        return Ok(());
    };
    let (s, j, a) = match was.as_str() {
        "new" | "sampling" => (1, 1, 1),
        "generated" | "judging" => (0, 1, 1),
        _ => (0, 0, 1),
    };
    let round = store::rounds::add_progress(conn, round.id, s, j, a, 1, 0).await?;
    let campaign =
        store::campaigns::get(conn, round.campaign_id).await?.ok_or_else(|| anyhow::anyhow!("campaign missing"))?;
    let policy = &campaign.config.failure_policy;
    if !policy.tolerates(round.prompts_failed as u32, round.prompts_total as u32) {
        let why = format!(
            "{} of {} prompts failed, more than the failure policy allows ({policy:?}); latest: task {task}: {reason}",
            round.prompts_failed, round.prompts_total
        );
        return rounds::fail(conn, &round, &why).await;
    }
    rounds::advance_stage(conn, &round).await
}
