//! The orchestrator owns the round saga: it applies events (from workers, the API and the dead-letter
//! queue) as conditional state transitions and fans out the next tasks through the outbox. It also
//! reaps expired leases of long tasks,
//! and releases judge-job chunks by priority (`backlog`).

pub mod backlog;
mod dead_letters;
mod events;
mod reaper;
pub mod saga;

use std::sync::Arc;

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let rt = worker::Runtime::start("orchestrator", settings).await?;
    let tasks = vec![
        // Saga transitions are applied one batch at a time (they serialize on the round row anyway),
        // in large batches: a batch costs a few statements per round and kind, not per event.
        tokio::spawn(worker::consume_named(
            rt.clone(),
            rt.topology.queue(protocol::WorkQueue::Events),
            Arc::new(events::EventHandler::new(rt.clone())),
            worker::Batching { size: rt.settings.saga.event_batch, concurrency: 1 },
        )),
        tokio::spawn(worker::consume_named(
            rt.clone(),
            rt.topology.dead_queue(),
            Arc::new(dead_letters::DeadLetterHandler::new(rt.clone())),
            worker::Batching { size: rt.settings.broker.batch, concurrency: 1 },
        )),
        tokio::spawn(reaper::reap(rt.clone())),
        tokio::spawn(backlog::dispatch(rt.clone())),
    ];
    worker::run_until_stopped(rt, tasks).await
}
