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

pub fn spec() -> utoipa::openapi::OpenApi {
    let paths = PathsBuilder::new()
        .path(
            "/v1/datasets",
            PathItemBuilder::new()
                .operation(HttpMethod::Post, op("Create a dataset from inline prompts", Some("NewDataset")))
                .build(),
        )
        .path(
            "/v1/datasets/{id}",
            PathItemBuilder::new().operation(HttpMethod::Get, op("Show a dataset", None)).build(),
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
            "/v1/campaigns/{id}/rounds/{n}/failures",
            PathItemBuilder::new().operation(HttpMethod::Get, op("A round's failed tasks with reasons", None)).build(),
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
