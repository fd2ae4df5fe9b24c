//! Round-level transitions: start, the training barrier, evaluation, completion (and the next round),
//! failure with compensation, and resume.

use super::fanout;
use config::SagaConfig;
use store::PgConnection;
use store::rounds::Round;
use tracing::Instrument;
use uuid::Uuid;

async fn campaign_of(conn: &mut PgConnection, round: &Round) -> anyhow::Result<store::campaigns::Campaign> {
    store::campaigns::get(conn, round.campaign_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("campaign {} missing", round.campaign_id))
}

/// Opens the round's trace (a root span: one trace per round) and publishes its generate tasks.
pub async fn start_round(conn: &mut PgConnection, round: &Round) -> anyhow::Result<()> {
    let span = tracing::info_span!(parent: None, "round", otel.name = "round", round.id = %round.id, round.number = round.number);
    span.follows_from(tracing::Span::current());
    let traceparent = match &round.traceparent {
        Some(tp) => Some(tp.clone()),
        None => telemetry::inject_span(&span).remove("traceparent"),
    };
    store::rounds::set_traceparent(conn, round.id, traceparent.as_deref()).await?;
    if round.number == 1 {
        queue_round0_evaluation(conn, round, traceparent.as_deref()).await?;
    }
    if round.paused {
        return Ok(());
    }
    let prompts = dispatch_sampling(conn, round, traceparent.as_deref()).instrument(span.clone()).await?;
    tracing::info!(parent: &span, prompts, "round started");
    Ok(())
}

/// The first round also evaluates the checkpoint it starts from (round 0 of the campaign's table), when
/// the campaign has a held-out dataset; it is not round fan-out, so a pause does not hold it. Its
/// `evaluated` event leaves the round alone (see [`evaluated`]), and its failure fails the round as the
/// round's own evaluation's would: the held-out set or the evaluator is broken either way.
async fn queue_round0_evaluation(
    conn: &mut PgConnection,
    round: &Round,
    traceparent: Option<&str>,
) -> anyhow::Result<()> {
    let campaign = campaign_of(conn, round).await?;
    if campaign.config.evaluation.dataset_id.is_none() {
        return Ok(());
    }
    store::outbox::enqueue(conn, &[fanout::evaluate(round, round.base_checkpoint_id)], traceparent).await?;
    tracing::info!(round = %round.id, checkpoint = %round.base_checkpoint_id, "round 0 evaluation queued");
    Ok(())
}

/// Publishes the generate tasks of the round's prompts that have none yet; returns how many.
async fn dispatch_sampling(conn: &mut PgConnection, round: &Round, traceparent: Option<&str>) -> anyhow::Result<usize> {
    let campaign = campaign_of(conn, round).await?;
    let prompts = store::progress::transition_all(conn, round.id, "new", "sampling").await?;
    store::outbox::enqueue(conn, &fanout::generate(&campaign, round, &prompts), traceparent).await?;
    Ok(prompts.len())
}

/// Moves the round to the stage its slowest prompt is in; at the barrier, queues training.
pub async fn advance_stage(conn: &mut PgConnection, round: &Round) -> anyhow::Result<()> {
    let total = round.prompts_total;
    let stage = if round.sampling_done < total {
        "sampling"
    } else if round.judging_done < total {
        "judging"
    } else if round.aggregating_done < total {
        "aggregating"
    } else {
        "training"
    };
    if stage == round.state {
        return Ok(());
    }
    if !store::rounds::transition(conn, round.id, &["sampling", "judging", "aggregating"], stage).await? {
        return Ok(());
    }
    if stage == "training" {
        if round.pairs_total == 0 {
            return fail(conn, round, "the round produced no preference pairs").await;
        }
        if !round.paused {
            queue_training(conn, round).await?;
        }
    }
    Ok(())
}

async fn queue_training(conn: &mut PgConnection, round: &Round) -> anyhow::Result<()> {
    store::outbox::enqueue(conn, &[fanout::train(round)], round.traceparent.as_deref()).await?;
    store::rounds::mark_training_queued(conn, round.id).await?;
    tracing::info!(round = %round.id, pairs = round.pairs_total, "training queued");
    Ok(())
}

pub async fn trained(conn: &mut PgConnection, round: &Round, checkpoint: Uuid) -> anyhow::Result<()> {
    if !store::rounds::transition(conn, round.id, &["training"], "evaluating").await? {
        return Ok(());
    }
    store::rounds::set_result(conn, round.id, checkpoint).await?;
    if !round.paused {
        queue_evaluation(conn, round, checkpoint).await?;
    }
    Ok(())
}

async fn queue_evaluation(conn: &mut PgConnection, round: &Round, checkpoint: Uuid) -> anyhow::Result<()> {
    store::outbox::enqueue(conn, &[fanout::evaluate(round, checkpoint)], round.traceparent.as_deref()).await?;
    store::rounds::mark_evaluation_queued(conn, round.id).await?;
    Ok(())
}

/// The round is done: the campaign moves to its checkpoint and the next round starts from it. The
/// evaluation of the checkpoint the round started from (round 0's) only stores scores.
pub async fn evaluated(conn: &mut PgConnection, round: &Round, checkpoint: Uuid) -> anyhow::Result<()> {
    if round.result_checkpoint_id != Some(checkpoint) {
        tracing::info!(round = %round.id, %checkpoint, "starting checkpoint evaluated");
        return Ok(());
    }
    if !store::rounds::transition(conn, round.id, &["evaluating"], "completed").await? {
        return Ok(());
    }
    store::campaigns::advance_checkpoint(conn, round.campaign_id, checkpoint).await?;
    tracing::info!(round = %round.id, number = round.number, "round completed");
    next_round(conn, round, checkpoint).await
}

async fn next_round(conn: &mut PgConnection, round: &Round, checkpoint: Uuid) -> anyhow::Result<()> {
    let campaign = campaign_of(conn, round).await?;
    if campaign.state == "cancelled" || campaign.state == "failed" {
        return Ok(());
    }
    if round.number >= campaign.rounds_total {
        store::campaigns::set_state(conn, campaign.id, "completed", None).await?;
        tracing::info!(campaign = %campaign.id, "campaign completed");
        return Ok(());
    }
    if store::rounds::by_number(conn, campaign.id, round.number + 1).await?.is_some() {
        return Ok(());
    }
    let paused = campaign.state == "paused";
    let id = store::rounds::create(
        conn,
        campaign.id,
        campaign.dataset_id,
        round.number + 1,
        checkpoint,
        campaign.config.samples_per_prompt as i32,
        paused,
    )
    .await?;
    let next = store::rounds::lock(conn, id).await?.ok_or_else(|| anyhow::anyhow!("new round vanished"))?;
    start_round(conn, &next).await
}

/// Fails the round and compensates: the campaign stays on its previous checkpoint, and whatever the
/// round produced is marked for collection.
pub async fn fail(conn: &mut PgConnection, round: &Round, reason: &str) -> anyhow::Result<()> {
    if !store::rounds::fail(conn, round.id, reason).await? {
        return Ok(());
    }
    store::checkpoints::mark_collectable(conn, round.id).await?;
    store::campaigns::set_state(conn, round.campaign_id, "failed", Some(&format!("round {}: {reason}", round.number)))
        .await?;
    tracing::warn!(round = %round.id, %reason, "round failed");
    Ok(())
}

/// Releases everything a pause held back.
pub async fn resume(conn: &mut PgConnection, round: &Round, saga: &SagaConfig) -> anyhow::Result<()> {
    if round.paused {
        return Ok(());
    }
    if round.state == "completed" {
        let checkpoint =
            round.result_checkpoint_id.ok_or_else(|| anyhow::anyhow!("completed round without checkpoint"))?;
        return next_round(conn, round, checkpoint).await;
    }
    if round.is_terminal() {
        return Ok(());
    }
    let tp = round.traceparent.as_deref();
    dispatch_sampling(conn, round, tp).await?;
    let generated = store::progress::transition_all(conn, round.id, "generated", "judging").await?;
    let tasks: Vec<_> = generated.iter().flat_map(|p| fanout::judge(round, *p, saga.judge_pairs_per_message)).collect();
    store::outbox::enqueue(conn, &tasks, tp).await?;
    let judged = store::progress::transition_all(conn, round.id, "judged", "aggregating").await?;
    let tasks: Vec<_> = judged.iter().map(|p| fanout::aggregate(round, *p)).collect();
    store::outbox::enqueue(conn, &tasks, tp).await?;
    if round.state == "training" && round.training_queued_at.is_none() {
        queue_training(conn, round).await?;
    }
    if round.state == "evaluating"
        && round.evaluation_queued_at.is_none()
        && let Some(cp) = round.result_checkpoint_id
    {
        queue_evaluation(conn, round, cp).await?;
    }
    tracing::info!(round = %round.id, "round resumed");
    Ok(())
}
