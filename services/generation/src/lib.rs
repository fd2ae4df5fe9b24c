//! The generation worker: samples K responses per prompt (with its image, if it has one) from the
//! round's policy and reports each prompt's samples to the orchestrator. The backend is built by
//! `backend_tch::build`: the `tch` policy, or any kind of the `backend` crate (the fake).

use backend::{BackendError, Backends, GenerateRequest};
use protocol::{EventKind, GenerateTask, Task, WorkQueue};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;
use worker::{Disposition, Handler, Incoming, Runtime};

pub async fn run(settings: worker::Settings) -> anyhow::Result<()> {
    let backends = backend_tch::build(settings.backend_config()?, &settings.artifact_store())
        .map_err(|e| anyhow::anyhow!("backend: {e}"))?;
    tracing::info!(backend = backends.name, "generation worker starting");
    let rt = Runtime::start("generation", settings).await?;
    let handler = Arc::new(GenerationHandler { rt: rt.clone(), backends });
    let consumer = tokio::spawn(worker::consume(rt.clone(), WorkQueue::Generate, handler));
    worker::run_until_stopped(rt, vec![consumer]).await
}

pub struct GenerationHandler {
    rt: Runtime,
    backends: Backends,
}

impl Handler for GenerationHandler {
    async fn handle(&self, batch: &[Incoming]) -> anyhow::Result<Vec<Disposition>> {
        let worker::Decoded { messages: tasks, dispositions: mut out } = worker::Decoded::<GenerateTask>::of(batch);
        let mut conn = self.rt.pool.acquire().await?;
        let rounds: Vec<Uuid> = tasks.iter().map(|t| t.1.round_id).collect::<HashSet<_>>().into_iter().collect();
        let contexts = store::rounds::contexts(&mut conn, &rounds).await?;
        let prompt_ids: Vec<Uuid> = tasks.iter().map(|t| t.1.prompt_id).collect();
        let questions: std::collections::HashMap<Uuid, (String, Option<String>)> =
            store::datasets::questions_and_images(&mut conn, &prompt_ids)
                .await?
                .into_iter()
                .map(|(id, question, image)| (id, (question, image)))
                .collect();
        drop(conn);

        let mut requests = Vec::new();
        let mut work = Vec::new();
        for (n, task, span) in tasks {
            let (Some(ctx), Some((question, image))) = (contexts.get(&task.round_id), questions.get(&task.prompt_id))
            else {
                out[n] = Some(Disposition::Reject {
                    task: Some(Task::Generate(task)),
                    error: "unknown round or prompt".into(),
                });
                continue;
            };
            if !ctx.wanted() {
                out[n] = Some(Disposition::Ack);
                continue;
            }
            requests.push(GenerateRequest {
                question: question.clone(),
                image: image.clone(),
                checkpoint_uri: ctx.base_uri.clone(),
                samples: task.samples,
                seed: task.seed,
                temperature: ctx.config.sampling.temperature,
                top_p: ctx.config.sampling.top_p,
                max_new_tokens: ctx.config.sampling.max_new_tokens,
            });
            work.push((n, task, span));
        }
        let policy = self.backends.policy.clone();
        let results = worker::blocking(move || policy.generate(&requests)).await?;

        let mut tx = self.rt.pool.begin().await?;
        let mut done = Vec::new();
        for ((n, task, span), result) in work.into_iter().zip(results) {
            match result {
                Ok(responses) => done.push((n, task, span, responses)),
                Err(BackendError::Transient(e)) => {
                    out[n] = Some(Disposition::Retry { task: Some(Task::Generate(task)), error: e })
                }
                Err(BackendError::Permanent(e)) => {
                    out[n] = Some(Disposition::Reject { task: Some(Task::Generate(task)), error: e })
                }
            }
        }
        let rows: Vec<store::results::NewSamples> = done
            .iter()
            .map(|(_, t, _, r)| store::results::NewSamples { round: t.round_id, prompt: t.prompt_id, responses: r })
            .collect();
        let fresh = store::results::insert_samples(&mut tx, &rows).await?;
        let mut events = worker::Emitter::default();
        for (n, task, span, _) in &done {
            if fresh.contains(&(task.round_id, task.prompt_id)) {
                events.push(task.round_id, EventKind::Generated { prompt_id: task.prompt_id }, span);
            }
            out[*n] = Some(Disposition::Ack);
        }
        events.write(&mut tx).await?;
        tx.commit().await?;
        Ok(worker::settled(out))
    }
}
