//! Judge items may carry their image inline (`"image": "data:image/png;base64,…"`): the API checks it once
//! (as a dataset import does), stores it in the artifact store and rewrites the item to its `sha256:`
//! reference before validation, so workers and stored items only ever see references.

use crate::AppState;
use base64::Engine as _;
use serde_json::Value;

/// The line with an inline image replaced by its `sha256:` reference; other lines unchanged. An error is a
/// message for the line's entry in the 422 answer.
pub async fn replace(state: &AppState, text: String) -> Result<String, String> {
    if !text.contains("\"data:") {
        return Ok(text);
    }
    let Ok(mut value) = serde_json::from_str::<Value>(&text) else {
        return Ok(text); // the item's own validation names the syntax error
    };
    let Some(Value::String(uri)) = value.get("image") else {
        return Ok(text);
    };
    let Some(rest) = uri.strip_prefix("data:") else {
        return Ok(text);
    };
    let (media_type, data) = rest.split_once(',').ok_or("`image` data URI has no ',' before the data")?;
    if !media_type.ends_with(";base64") {
        return Err(format!("`image` data URI {media_type:?} is not base64"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|e| format!("`image` data URI is not valid base64: {e}"))?;
    let checked = tokio::task::spawn_blocking(move || {
        ingest::check_image(&bytes, &ingest::ImageLimits::default()).map(|_| bytes)
    })
    .await
    .map_err(|e| format!("checking `image`: {e}"))?
    .map_err(|problem| format!("`image`: {problem}"))?;
    let stored = state.artifacts.put_bytes(artifacts::Kind::Image, checked).await.map_err(|e| {
        tracing::error!(error = %e, "storing an inline judge-item image");
        format!("`image` could not be stored ({e}); retry the upload")
    })?;
    value["image"] = Value::String(format!("sha256:{}", stored.digest));
    Ok(value.to_string())
}
