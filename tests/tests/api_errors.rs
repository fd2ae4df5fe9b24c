//! Bad requests get a 4xx with a JSON body naming the problem, and nothing is written.

use criticloop_tests::{Cluster, ClusterOptions, Service, campaign};
use serde_json::{Value, json};

async fn api_only(name: &str) -> anyhow::Result<Cluster> {
    // A small body limit, so an oversized body still fits the socket buffers: the client finishes
    // sending before the server answers 413 and closes, and reads the answer.
    let mut options = ClusterOptions::new(name).env("CRITICLOOP_API__MAX_BODY_BYTES", 64 * 1024);
    options.skip = devcluster::SERVICES.into_iter().filter(|s| *s != Service::Api).collect();
    Cluster::start(options).await
}

async fn written(cluster: &Cluster) -> anyhow::Result<(i64, i64, i64)> {
    let pool = cluster.pool().await?;
    let counts = sqlx::query_as(
        "select (select count(*) from campaigns), (select count(*) from rounds), (select count(*) from outbox)",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(counts)
}

/// Sends `body` raw to POST /v1/campaigns and returns (status, JSON body).
async fn post_raw(cluster: &Cluster, body: &str, token: Option<&str>) -> anyhow::Result<(u16, Value)> {
    let mut req = cluster
        .http
        .post(cluster.url("/v1/campaigns"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await?;
    let status = resp.status().as_u16();
    let json: Value = resp.json().await?;
    Ok((status, json))
}

fn message(v: &Value) -> String {
    v["error"]["message"].as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn api_rejects_bad_campaigns_and_writes_nothing() -> anyhow::Result<()> {
    let cluster = api_only("api_bad").await?;
    let dataset = campaign::dataset(&cluster, 3, |i| format!("q{i}")).await?;
    let token = cluster.token.clone();
    let good = campaign::spec(&dataset, 1, 5, json!({}));
    let with = |patch: Value| {
        let mut s = good.clone();
        for (k, v) in patch.as_object().into_iter().flatten() {
            s[k] = v.clone();
        }
        s.to_string()
    };

    let (status, body) = post_raw(&cluster, "{\"name\": \"x\", ", Some(&token)).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_json")), "{body}");

    let mut unknown = good.clone();
    unknown["colour"] = json!("blue");
    let (status, body) = post_raw(&cluster, &unknown.to_string(), Some(&token)).await?;
    assert_eq!(status, 422, "{body}");
    assert!(message(&body).contains("unknown field `colour`"), "{body}");

    let (status, body) = post_raw(&cluster, &with(json!({"samples_per_prompt": 1})), Some(&token)).await?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "samples_per_prompt", "{body}");

    let baseline_judges_answers = json!({
        "critic": {"checkpoint": "baseline:oracle"},
        "evaluation": {"dataset_id": dataset},
    });
    let (status, body) = post_raw(&cluster, &with(baseline_judges_answers), Some(&token)).await?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "evaluation.critic", "{body}");

    let (status, body) = post_raw(&cluster, &with(json!({"rounds": 0})), Some(&token)).await?;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "rounds", "{body}");

    let (status, body) = post_raw(&cluster, &with(json!({"rounds": -1})), Some(&token)).await?;
    assert_eq!(status, 422, "{body}");
    assert!(message(&body).contains("rounds"), "{body}");

    let (status, body) =
        post_raw(&cluster, &with(json!({"critic": {"checkpoint": "c", "template": "no-such"}})), Some(&token)).await?;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("critic.template")), "{body}");

    let missing = uuid::Uuid::new_v4().to_string();
    let (status, body) = post_raw(&cluster, &with(json!({"dataset_id": missing})), Some(&token)).await?;
    assert_eq!((status, body["error"]["fields"][0]["field"].as_str()), (422, Some("dataset_id")), "{body}");
    let (status, body) =
        post_raw(&cluster, &with(json!({"evaluation": {"dataset_id": missing}})), Some(&token)).await?;
    let field = body["error"]["fields"][0]["field"].as_str();
    assert_eq!((status, field), (422, Some("evaluation.dataset_id")), "{body}");
    let (status, body) = post_raw(&cluster, &with(json!({"evaluation": {"suite": "x"}})), Some(&token)).await?;
    assert!(status == 422 && message(&body).contains("unknown field `suite`"), "{status} {body}");

    let mut big = good.clone();
    big["name"] = json!("x".repeat(100 * 1024));
    let (status, body) = post_raw(&cluster, &big.to_string(), Some(&token)).await?;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("body_too_large")), "{body}");

    let (status, body) = post_raw(&cluster, &good.to_string(), None).await?;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("Authorization: Bearer"), "{body}");

    let (status, body) = post_raw(&cluster, &good.to_string(), Some("wrong-token")).await?;
    assert_eq!((status, message(&body).as_str()), (401, "the bearer token is not valid"), "{body}");

    assert_eq!(written(&cluster).await?, (0, 0, 0), "a rejected request wrote rows");

    // and a good one is accepted
    let (status, body) = post_raw(&cluster, &good.to_string(), Some(&token)).await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(written(&cluster).await?.0, 1);
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn api_probes_are_open_and_everything_else_needs_a_token() -> anyhow::Result<()> {
    let cluster = api_only("api_auth").await?;
    for probe in ["/healthz", "/readyz"] {
        let r = cluster.http.get(cluster.url(probe)).send().await?;
        assert_eq!(r.status().as_u16(), 200, "{probe}");
    }
    for path in ["/v1/campaigns", "/v1/openapi.json", "/v1/datasets/x"] {
        let r = cluster.http.get(cluster.url(path)).send().await?;
        assert_eq!(r.status().as_u16(), 401, "{path}");
        let body: Value = r.json().await?;
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    let doc: Value = cluster.get("/v1/openapi.json").await?.json().await?;
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")), "{doc}");
    assert!(doc["paths"]["/v1/campaigns"]["post"].is_object());
    assert!(doc["components"]["schemas"]["CampaignSpec"]["properties"]["samples_per_prompt"].is_object());

    let r = cluster.get(&format!("/v1/campaigns/{}", uuid::Uuid::new_v4())).await?;
    assert_eq!(r.status().as_u16(), 404);
    let r = cluster.get("/v1/campaigns/not-a-uuid").await?;
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await?;
    assert!(message(&body).contains("not-a-uuid"));
    let r = cluster.get("/v1/nothing-here").await?;
    assert_eq!(r.status().as_u16(), 404);
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["code"], "not_found");
    cluster.teardown().await
}
