//! What the training tests read back: the checkpoint row a round recorded, a scratch folder to download
//! it into, and how far its weights moved from the base.

use model::Qwen2ForCausalLM;
use serde_json::Value;
use std::path::PathBuf;

/// `(parent_id, uri, metrics)` of the checkpoint `round` (a campaign view's round) produced.
pub async fn of_round(pool: &sqlx::PgPool, round: &Value) -> anyhow::Result<(Option<uuid::Uuid>, String, Value)> {
    let id = round["result_checkpoint_id"].as_str().ok_or_else(|| anyhow::anyhow!("no result checkpoint: {round}"))?;
    Ok(sqlx::query_as("select parent_id, uri, metrics from checkpoints where id = $1::uuid")
        .bind(id)
        .fetch_one(pool)
        .await?)
}

/// The largest absolute difference between two checkpoints' weights (same architecture and order).
pub fn max_weight_change(base: &Qwen2ForCausalLM, trained: &Qwen2ForCausalLM) -> anyhow::Result<f64> {
    let mut changed = 0f64;
    for ((name, a), (other, b)) in base.named_weights().into_iter().zip(trained.named_weights()) {
        anyhow::ensure!(name == other, "weight order differs: {name} vs {other}");
        changed = changed.max((a - b).abs().max().double_value(&[]));
    }
    Ok(changed)
}

/// A fresh folder under the temporary directory (the caller removes it).
pub fn tempdir(tag: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("criticloop-{tag}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
