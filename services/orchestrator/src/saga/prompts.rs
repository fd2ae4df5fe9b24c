//! Per-prompt transitions, applied to all the prompts of one round that a batch of events names:
//! each moves its prompts one step and fans out their next tasks in one outbox write.

use super::{fanout, rounds};
use config::SagaConfig;
use store::PgConnection;
use store::rounds::Round;
use uuid::Uuid;

pub async fn generated(
    conn: &mut PgConnection,
    round: &Round,
    prompts: &[Uuid],
    saga: &SagaConfig,
) -> anyhow::Result<()> {
    let next = if round.paused { "generated" } else { "judging" };
    let moved = store::progress::transition_many(conn, round.id, prompts, "sampling", next).await?;
    if moved.is_empty() {
        return Ok(());
    }
    if !round.paused {
        let tasks: Vec<_> = moved.iter().flat_map(|p| fanout::judge(round, *p, saga.judge_pairs_per_message)).collect();
        store::outbox::enqueue(conn, &tasks, round.traceparent.as_deref()).await?;
    }
    let round = store::rounds::add_progress(conn, round.id, moved.len() as i32, 0, 0, 0, 0).await?;
    rounds::advance_stage(conn, &round).await
}

pub async fn judged(conn: &mut PgConnection, round: &Round, prompts: &[Uuid]) -> anyhow::Result<()> {
    let next = if round.paused { "judged" } else { "aggregating" };
    let moved = store::progress::transition_many(conn, round.id, prompts, "judging", next).await?;
    if moved.is_empty() {
        return Ok(());
    }
    if !round.paused {
        let tasks: Vec<_> = moved.iter().map(|p| fanout::aggregate(round, *p)).collect();
        store::outbox::enqueue(conn, &tasks, round.traceparent.as_deref()).await?;
    }
    let round = store::rounds::add_progress(conn, round.id, 0, moved.len() as i32, 0, 0, 0).await?;
    rounds::advance_stage(conn, &round).await
}

/// `prompts`: (prompt, whether it produced a pair).
pub async fn aggregated(conn: &mut PgConnection, round: &Round, prompts: &[(Uuid, bool)]) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = prompts.iter().map(|p| p.0).collect();
    let moved = store::progress::transition_many(conn, round.id, &ids, "aggregating", "aggregated").await?;
    if moved.is_empty() {
        return Ok(());
    }
    let pairs = prompts
        .iter()
        .filter(|(p, has)| *has && moved.contains(p))
        .map(|p| p.0)
        .collect::<std::collections::HashSet<_>>();
    let round = store::rounds::add_progress(conn, round.id, 0, 0, moved.len() as i32, 0, pairs.len() as i32).await?;
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
