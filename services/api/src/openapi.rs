//! The OpenAPI document, served at `/v1/openapi.json`.

use axum::Json;
use utoipa::PartialSchema;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, PathItemBuilder};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, PathsBuilder, Ref, ResponseBuilder,
};

fn op(summary: &str, body: Option<&str>) -> utoipa::openapi::path::Operation {
    let mut b = OperationBuilder::new()
        .summary(Some(summary))
        .response("200", ResponseBuilder::new().description("OK"))
        .response("4XX", ResponseBuilder::new().description("A JSON body `{error: {code, message, fields}}`"));
    if let Some(schema) = body {
        b = b.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build())
                .required(Some(utoipa::openapi::Required::True))
                .build(),
        ));
    }
    b.build()
}

/// An operation whose body is a file of any format (`application/octet-stream`), answered 201.
fn upload_op(summary: &str) -> utoipa::openapi::path::Operation {
    let mut operation = op(summary, None);
    operation.request_body = Some(
        RequestBodyBuilder::new()
            .content("application/octet-stream", ContentBuilder::new().build())
            .required(Some(utoipa::openapi::Required::True))
            .build(),
    );
    operation.responses.responses.insert(
        "201".into(),
        utoipa::openapi::RefOr::T(
            ResponseBuilder::new()
                .description("Imported: {dataset_id, file, rows_ok, rows_new, rows_rejected, rejected: [{row_number, id, reason, message}], images_stored, images_deduplicated, already_imported}")
                .build(),
        ),
    );
    operation
}

/// An operation whose body is JSONL: one `JudgeItem` per line.
fn jsonl_op(summary: &str) -> utoipa::openapi::path::Operation {
    let mut operation = op(summary, None);
    operation.request_body = Some(
        RequestBodyBuilder::new()
            .content(
                "application/x-ndjson",
                ContentBuilder::new().schema(Some(Ref::from_schema_name("JudgeItem"))).build(),
            )
            .required(Some(utoipa::openapi::Required::True))
            .build(),
    );
    operation
}

pub fn spec() -> utoipa::openapi::OpenApi {
    let paths = PathsBuilder::new()
        .path(
            "/v1/datasets",
            PathItemBuilder::new()
                .operation(HttpMethod::Post, op("Create a dataset from inline prompts", Some("NewDataset")))
                .operation(HttpMethod::Get, op("List datasets, newest first, with row and import counts", None))
                .build(),
        )
        .path(
            "/v1/datasets/import",
            PathItemBuilder::new()
                .operation(
                    HttpMethod::Post,
                    upload_op(
                        "Import a dataset file (body) ?format=llava-json|jsonl|parquet&name=…|dataset_id=…\
                         [&kind=prompt|critic_pointwise|critic_pairwise]; images inline (data:) or sha256: \
                         references; a bad file is 422 and stores nothing",
                    ),
                )
                .build(),
        )
        .path(
            "/v1/datasets/{id}",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("Show a dataset: prompts, rows by kind, imports", None))
                .operation(
                    HttpMethod::Delete,
                    op("Delete a dataset and its rows (409 while a campaign uses it); images go at the next gc", None),
                )
                .build(),
        )
        .path(
            "/v1/datasets/{id}/export",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("Every row as JSONL, images as sha256: references", None))
                .build(),
        )
        .path(
            "/v1/artifacts/gc",
            PathItemBuilder::new()
                .operation(
                    HttpMethod::Post,
                    op(
                        "Delete the artifacts nothing references that are older than older_than_s (dry_run: only \
                         report them): {removed, bytes_freed, removed_artifacts, referenced, scanned, kept, spared_young}",
                        Some("GcRequest"),
                    ),
                )
                .build(),
        )
        .path(
            "/v1/artifacts/{sha256}",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("Download a stored image by its sha256 (404 if absent)", None))
                .build(),
        )
        .path(
            "/v1/campaigns",
            PathItemBuilder::new()
                .operation(HttpMethod::Post, op("Create a campaign and start its first round", Some("CampaignSpec")))
                .operation(HttpMethod::Get, op("List campaigns", None))
                .build(),
        )
        .path(
            "/v1/campaigns/{id}",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("A campaign with its rounds and progress", None))
                .build(),
        )
        .path(
            "/v1/campaigns/{id}/cancel",
            PathItemBuilder::new().operation(HttpMethod::Post, op("Cancel a campaign", None)).build(),
        )
        .path(
            "/v1/campaigns/{id}/pause",
            PathItemBuilder::new().operation(HttpMethod::Post, op("Pause a campaign", None)).build(),
        )
        .path(
            "/v1/campaigns/{id}/resume",
            PathItemBuilder::new().operation(HttpMethod::Post, op("Resume a paused campaign", None)).build(),
        )
        .path(
            "/v1/campaigns/{id}/rounds/{n}/pairs",
            PathItemBuilder::new().operation(HttpMethod::Get, op("A round's preference pairs (JSONL)", None)).build(),
        )
        .path(
            "/v1/campaigns/{id}/rounds/{n}/judgments",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("A round's critic judgments with verdicts and raw outputs (JSONL)", None))
                .build(),
        )
        .path(
            "/v1/campaigns/{id}/rounds/{n}/failures",
            PathItemBuilder::new().operation(HttpMethod::Get, op("A round's failed tasks with reasons", None)).build(),
        )
        .path(
            "/v1/judge-jobs",
            PathItemBuilder::new()
                .operation(HttpMethod::Post, jsonl_op("Submit a judge job: JudgeItem per line; query: JudgeJobParams"))
                .operation(HttpMethod::Get, op("List judge jobs, newest first", None))
                .build(),
        )
        .path(
            "/v1/judge-jobs/{id}",
            PathItemBuilder::new().operation(HttpMethod::Get, op("A judge job's state and progress", None)).build(),
        )
        .path(
            "/v1/judge-jobs/{id}/results",
            PathItemBuilder::new()
                .operation(
                    HttpMethod::Get,
                    op("Judged items in submission order (JSONL, streamed; ?after=position)", None),
                )
                .build(),
        )
        .path(
            "/v1/judge-jobs/{id}/metrics",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("Agreement metrics against the labels (409 until scored)", None))
                .build(),
        )
        .path(
            "/v1/judge-jobs/{id}/failures",
            PathItemBuilder::new()
                .operation(HttpMethod::Get, op("A judge job's dead chunks with reasons", None))
                .build(),
        )
        .path(
            "/v1/judge-jobs/{id}/cancel",
            PathItemBuilder::new().operation(HttpMethod::Post, op("Stop releasing a judge job's items", None)).build(),
        )
        .build();
    let components = ComponentsBuilder::new()
        .schema("CampaignSpec", protocol::CampaignSpec::schema())
        .schema("PolicySpec", protocol::PolicySpec::schema())
        .schema("CriticSpec", protocol::CriticSpec::schema())
        .schema("SamplingSpec", protocol::SamplingSpec::schema())
        .schema("TrainingSpec", protocol::TrainingSpec::schema())
        .schema("FailurePolicy", protocol::FailurePolicy::schema())
        .schema("NewDataset", crate::routes::NewDataset::schema())
        .schema("NewPrompt", crate::routes::NewPrompt::schema())
        .schema("GcRequest", crate::routes::GcRequest::schema())
        .schema("JudgeItem", protocol::JudgeItem::schema())
        .schema("JudgeJobParams", protocol::JudgeJobParams::schema())
        .schema("Label", protocol::Label::schema())
        .schema("LabelPreference", protocol::LabelPreference::schema())
        .security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()))
        .build();
    OpenApiBuilder::new()
        .info(InfoBuilder::new().title("criticloop").version(env!("CARGO_PKG_VERSION")).build())
        .paths(paths)
        .components(Some(components))
        .build()
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}
