//! What the command left in `{output}`: its optional `metrics.json` (taken out, so the stored checkpoint
//! holds the model alone) and the checkpoint itself, checked before it is stored. A bad output is the
//! command's fault and does not change on retry, so every failure here is permanent.

use std::path::Path;

use backend::BackendError;
use model::{LoadOptions, TextModel, VisionModel};
use serde_json::{Map, Value};

/// The command's metrics file, inside the output folder.
pub const METRICS: &str = "metrics.json";

/// Reads and removes `{output}/metrics.json` (empty when absent); an unreadable or non-object file
/// is reported in the metrics (`metrics_error`) instead of failing a finished training.
pub fn take_metrics(output: &Path) -> Map<String, Value> {
    let path = output.join(METRICS);
    let Ok(bytes) = std::fs::read(&path) else { return Map::new() };
    let _ = std::fs::remove_file(&path);
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => m,
        Ok(other) => error_map(format!("{METRICS} is not a JSON object but {}", kind(&other))),
        Err(e) => error_map(format!("{METRICS} is not valid JSON: {e}")),
    }
}

fn error_map(message: String) -> Map<String, Value> {
    tracing::warn!(%message, "the command's metrics are unusable");
    Map::from_iter([("metrics_error".to_string(), Value::String(message))])
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks that `output` is a Hugging Face checkpoint (a `config.json` naming its `model_type`, weights
/// in safetensors) and, with `load`, that criticloop's runtime loads it (Qwen2 or LLaVA-OneVision).
pub fn verify(output: &Path, load: bool) -> Result<String, BackendError> {
    let span = tracing::info_span!("external.verify", output = %output.display(), load);
    let _entered = span.enter();
    let bad = |what: String| BackendError::Permanent(format!("the command's output {}: {what}", output.display()));
    let listing = || -> String {
        let mut names: Vec<String> = std::fs::read_dir(output)
            .map(|d| d.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        if names.is_empty() { "it is empty".into() } else { format!("it holds {}", names.join(", ")) }
    };
    let config = std::fs::read(output.join("config.json")).map_err(|_| {
        bad(format!("has no config.json ({}); the command must write a Hugging Face checkpoint there", listing()))
    })?;
    let config: Value =
        serde_json::from_slice(&config).map_err(|e| bad(format!("config.json is not valid JSON: {e}")))?;
    let model_type = config.get("model_type").and_then(Value::as_str).unwrap_or_default().to_string();
    let has_weights = std::fs::read_dir(output)
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".safetensors")))
        .unwrap_or(false);
    if !has_weights {
        return Err(bad(format!(
            "has no *.safetensors weights ({}); save with safe_serialization (the default of save_pretrained)",
            listing()
        )));
    }
    if !load {
        return Ok(model_type);
    }
    let started = std::time::Instant::now();
    let options = LoadOptions::default();
    let loaded = match model_type.as_str() {
        "qwen2" => TextModel::load(output, &options).map(drop),
        "llava_onevision" => VisionModel::load(output, &options).map(drop),
        other => {
            return Err(bad(format!(
                "model_type `{other}`: criticloop's runtime loads qwen2 and llava_onevision checkpoints; set \
                 CRITICLOOP_BACKEND__VERIFY_LOAD=false to store other checkpoints unchecked"
            )));
        }
    };
    loaded.map_err(|e| bad(format!("does not load in criticloop's runtime: {e}")))?;
    tracing::info!(%model_type, seconds = started.elapsed().as_secs_f64(), "trained checkpoint loads");
    Ok(model_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_metrics_are_taken_out_and_bad_ones_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(take_metrics(dir.path()).is_empty());
        std::fs::write(dir.path().join(METRICS), r#"{"loss": 0.5}"#).expect("write");
        assert_eq!(take_metrics(dir.path()).get("loss"), Some(&serde_json::json!(0.5)));
        assert!(!dir.path().join(METRICS).exists(), "removed from the checkpoint");
        std::fs::write(dir.path().join(METRICS), "[1]").expect("write");
        let m = take_metrics(dir.path());
        assert_eq!(m["metrics_error"], "metrics.json is not a JSON object but an array");
    }

    #[test]
    fn output_without_a_checkpoint_is_a_permanent_error_naming_what_is_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("pytorch_model.bin"), b"x").expect("write");
        let err = verify(dir.path(), false).expect_err("no config");
        let BackendError::Permanent(m) = err else { panic!("transient: {err}") };
        assert!(m.contains("has no config.json (it holds pytorch_model.bin)"), "{m}");
        std::fs::write(dir.path().join("config.json"), r#"{"model_type": "llama"}"#).expect("write");
        let m = verify(dir.path(), false).expect_err("no safetensors").to_string();
        assert!(m.contains("no *.safetensors weights"), "{m}");
        std::fs::write(dir.path().join("model.safetensors"), b"x").expect("write");
        assert_eq!(verify(dir.path(), false).expect("files only"), "llama");
        let m = verify(dir.path(), true).expect_err("llama").to_string();
        assert!(m.contains("VERIFY_LOAD=false"), "{m}");
    }
}
