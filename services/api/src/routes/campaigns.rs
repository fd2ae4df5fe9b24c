use crate::{AppState, error::ApiError, extract::JsonBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use protocol::{CampaignSpec, Command, Envelope, Event, EventKind, FieldError, Route, WorkQueue};
use serde::Deserialize;
use uuid::Uuid;

/// Creates a campaign and its first round; the orchestrator starts it.
pub async fn create(
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<CampaignSpec>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    spec.validate().map_err(ApiError::invalid)?;
    match critic::templates::get(&spec.critic.template) {
        Some(t) if t.mode == critic::Mode::Pairwise && !t.needs_reference() => {}
        Some(_) => {
            return Err(ApiError::invalid(vec![FieldError {
                field: "critic.template".into(),
                message: "campaigns rank samples pairwise: choose a pairwise template without a reference answer"
                    .into(),
            }]));
        }
        None => {
            return Err(ApiError::invalid(vec![FieldError {
                field: "critic.template".into(),
                message: format!("unknown template `{}`", spec.critic.template),
            }]));
        }
    }
    let mut tx = state.rt.pool.begin().await?;
    let prompts = store::datasets::prompt_count(&mut tx, spec.dataset_id).await?;
    if prompts == 0 {
        return Err(ApiError::invalid(vec![FieldError {
            field: "dataset_id".into(),
            message: format!("dataset {} does not exist or has no prompts", spec.dataset_id),
        }]));
    }
    if let Some(eval) = spec.evaluation.dataset_id
        && store::datasets::prompt_count(&mut tx, eval).await? == 0
    {
        return Err(ApiError::invalid(vec![FieldError {
            field: "evaluation.dataset_id".into(),
            message: format!("dataset {eval} does not exist or has no prompts"),
        }]));
    }
    let (campaign, checkpoint) = store::campaigns::insert(&mut tx, &spec).await?;
    let round =
        store::rounds::create(&mut tx, campaign, spec.dataset_id, 1, checkpoint, spec.samples_per_prompt as i32, false)
            .await?;
    let event = Envelope::new(Route::to(WorkQueue::Events), &Event { round_id: round, kind: EventKind::RoundCreated });
    store::outbox::enqueue(&mut tx, &[event], telemetry::current_traceparent().as_deref()).await?;
    store::outbox::notify(&mut tx).await?;
    tx.commit().await?;
    tracing::info!(%campaign, prompts, "campaign created");
    let view = view(&state, campaign).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default)]
    offset: i64,
}

fn default_limit() -> i64 {
    50
}

pub async fn list(
    State(state): State<AppState>,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(page) = page.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_query", e.body_text()))?;
    let mut conn = state.rt.pool.acquire().await?;
    let campaigns = store::campaigns::list(&mut conn, page.limit.clamp(1, 500), page.offset.max(0)).await?;
    let items: Vec<serde_json::Value> = campaigns
        .into_iter()
        .map(|c| {
            serde_json::json!({"id": c.id, "name": c.name, "state": c.state, "rounds_total": c.rounds_total,
                "created_at": c.created_at})
        })
        .collect();
    Ok(Json(serde_json::json!({ "campaigns": items })))
}

pub async fn show(State(state): State<AppState>, Path(raw): Path<String>) -> Result<Json<serde_json::Value>, ApiError> {
    let id = crate::extract::id(&raw, "campaign")?;
    Ok(Json(view(&state, id).await?))
}

/// The campaign with its rounds, each with its saga state and progress counts.
pub async fn view(state: &AppState, id: Uuid) -> Result<serde_json::Value, ApiError> {
    let mut conn = state.rt.pool.acquire().await?;
    let campaign = store::campaigns::get(&mut conn, id).await?.ok_or_else(|| ApiError::not_found("campaign"))?;
    let mut rounds = Vec::new();
    for r in store::rounds::of_campaign(&mut conn, id).await? {
        let counts = store::results::counts(&mut conn, r.id).await?;
        let prompts = store::progress::states(&mut conn, r.id).await?;
        let evaluations = match r.result_checkpoint_id {
            Some(cp) => store::results::evaluations_of(&mut conn, cp).await?,
            None => Vec::new(),
        };
        // the scores of the checkpoint the round started from: round 0's for the first round
        let base_evaluations = store::results::evaluations_of(&mut conn, r.base_checkpoint_id).await?;
        rounds.push(serde_json::json!({
            "id": r.id, "number": r.number, "state": r.state, "paused": r.paused, "version": r.version,
            "base_checkpoint_id": r.base_checkpoint_id, "result_checkpoint_id": r.result_checkpoint_id,
            "samples_per_prompt": r.samples_per_prompt, "prompts_total": r.prompts_total,
            "prompts_failed": r.prompts_failed, "failure_reason": r.failure_reason,
            "progress": {"sampling_done": r.sampling_done, "judging_done": r.judging_done,
                         "aggregating_done": r.aggregating_done, "prompts_by_state": prompts.by_state},
            "counts": counts,
            "evaluations": suites_json(evaluations),
            "base_evaluations": suites_json(base_evaluations),
            "created_at": r.created_at, "finished_at": r.finished_at,
        }));
    }
    Ok(serde_json::json!({
        "id": campaign.id, "name": campaign.name, "state": campaign.state, "dataset_id": campaign.dataset_id,
        "rounds_total": campaign.rounds_total, "current_checkpoint_id": campaign.current_checkpoint_id,
        "failure_reason": campaign.failure_reason, "config": campaign.config,
        "created_at": campaign.created_at, "updated_at": campaign.updated_at, "rounds": rounds,
    }))
}

fn suites_json(suites: Vec<(String, serde_json::Value)>) -> Vec<serde_json::Value> {
    suites.into_iter().map(|(s, m)| serde_json::json!({"suite": s, "metrics": m})).collect()
}

pub async fn cancel(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    command(&state, &raw, Command::Cancel).await
}
pub async fn pause(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    command(&state, &raw, Command::Pause).await
}
pub async fn resume(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    command(&state, &raw, Command::Resume).await
}

/// Applies an operator command: the flags change now, and the orchestrator is told (resume releases
/// the work a pause held back).
async fn command(state: &AppState, raw: &str, command: Command) -> Result<Json<serde_json::Value>, ApiError> {
    let id = crate::extract::id(raw, "campaign")?;
    let mut tx = state.rt.pool.begin().await?;
    // Lock order as in the saga: the latest round first, then the campaign.
    let latest = loop {
        let rounds = store::rounds::of_campaign(&mut tx, id).await?;
        let Some(last) = rounds.last() else {
            return Err(ApiError::not_found("campaign"));
        };
        let locked = store::rounds::lock(&mut tx, last.id).await?.ok_or_else(|| ApiError::not_found("round"))?;
        // the orchestrator may have started the next round meanwhile: then lock that one
        let now = store::rounds::of_campaign(&mut tx, id).await?;
        if now.last().map(|r| r.id) == Some(locked.id) {
            break locked;
        }
    };
    let campaign =
        store::campaigns::get_for_update(&mut tx, id).await?.ok_or_else(|| ApiError::not_found("campaign"))?;
    let (allowed, next): (&[&str], &str) = match command {
        Command::Cancel => (&["running", "paused"], "cancelled"),
        Command::Pause => (&["running"], "paused"),
        Command::Resume => (&["paused"], "running"),
    };
    if !allowed.contains(&campaign.state.as_str()) {
        return Err(ApiError::conflict(
            format!("campaign is {}; cannot {:?} it", campaign.state, command).to_lowercase(),
        ));
    }
    store::campaigns::set_state(&mut tx, id, next, None).await?;
    let latest = &latest;
    match command {
        Command::Cancel if !latest.is_terminal() => {
            store::rounds::transition(&mut tx, latest.id, &[latest.state.as_str()], "cancelled").await?;
        }
        Command::Pause | Command::Resume => {
            store::rounds::set_paused(&mut tx, latest.id, command == Command::Pause).await?;
        }
        Command::Cancel => {}
    }
    let event = Envelope::new(
        Route::to(WorkQueue::Events),
        &Event { round_id: latest.id, kind: EventKind::Command { command } },
    );
    store::outbox::enqueue(&mut tx, &[event], telemetry::current_traceparent().as_deref()).await?;
    store::outbox::notify(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(view(state, id).await?))
}
