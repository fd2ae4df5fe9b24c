//! Items as criticloop's JSONL import format, and the truth read back from an imported row.
//!
//! One JSON object per line: `{"id", "source": "world", "question", "image": "data:image/png;base64,...",
//! "world": {"family", "answer", "objects": [{"shape", "colour", "size", "x", "y"}], "seed", "width",
//! "height"}}`. The importer (`ingest`'s `json_record`) takes `id`, `source`, `question` and the data: URI
//! image, and keeps `world` among the row's extra fields.

use std::io::Write;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::Result;
use crate::render::{png_bytes, render};
use crate::scene::{Object, Scene};
use crate::tasks::{Family, Item, Truth};

/// The `source` written on every line.
pub const SOURCE: &str = "world";

/// The `world` field of a line: the item's ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct WorldField {
    family: Family,
    answer: Option<String>,
    objects: Vec<Object>,
    seed: u64,
    width: u32,
    height: u32,
}

/// The `world` field for a truth.
pub fn truth_json(truth: &Truth) -> Result<Value> {
    Ok(serde_json::to_value(WorldField {
        family: truth.family,
        answer: truth.answer.clone(),
        objects: truth.scene.objects.clone(),
        seed: truth.seed,
        width: truth.scene.width,
        height: truth.scene.height,
    })?)
}

/// The `data:image/png;base64,...` URI of the item's rendered scene.
pub fn image_data_uri(item: &Item) -> Result<String> {
    let png = png_bytes(&render(item.scene()))?;
    Ok(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(png)))
}

/// Writes one line per item; each image is the item's own scene, rendered at the scene's size.
pub fn write_jsonl<W: Write>(items: &[Item], mut writer: W) -> Result<()> {
    for item in items {
        let line = json!({
            "id": item.id,
            "source": SOURCE,
            "question": item.question,
            "image": image_data_uri(item)?,
            "world": truth_json(&item.truth)?,
        });
        serde_json::to_writer(&mut writer, &line)?;
        writer.write_all(b"\n")?;
    }
    writer.flush()?;
    Ok(())
}

/// The truth of a stored row: `value` is either the `world` field itself or an object that has one (a
/// whole line, or a row's `extra` map). `None` when it is missing or malformed.
pub fn parse_truth(value: &Value) -> Option<Truth> {
    let field = value.get("world").unwrap_or(value);
    let w: WorldField = serde_json::from_value(field.clone()).ok()?;
    let scene = Scene { width: w.width, height: w.height, objects: w.objects };
    Some(Truth { family: w.family, answer: w.answer, scene, seed: w.seed })
}
