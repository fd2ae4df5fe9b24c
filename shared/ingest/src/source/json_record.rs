//! A JSON object (one element of a LLaVA JSON array, or one JSONL line) to a record, or the reason not.

use super::{RawImage, RawRecord, ReadSettings, SourceItem, rejected, resolve_image_path};
use crate::row::{RejectReason, Turn};
use base64::Engine as _;
use serde_json::{Map, Value};

const KNOWN_FIELDS: [&str; 5] = ["id", "source", "image", "conversations", "question"];

/// Converts one parsed record. `question` is accepted as a one-turn conversation (JSONL prompts).
pub(crate) fn to_item(row_number: u64, value: Value, settings: &ReadSettings) -> SourceItem {
    let Value::Object(mut object) = value else {
        return rejected(row_number, None, RejectReason::NotAnObject);
    };
    let id = match object.get("id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return rejected(row_number, None, wrong_type("id", "a string or number")),
        None => return rejected(row_number, None, RejectReason::MissingField { field: "id".into() }),
    };
    match build(row_number, &id, &mut object, settings) {
        Ok(record) => SourceItem::Record(record),
        Err(reason) => rejected(row_number, Some(id), reason),
    }
}

fn build(
    row_number: u64,
    id: &str,
    object: &mut Map<String, Value>,
    settings: &ReadSettings,
) -> Result<RawRecord, RejectReason> {
    let source = match object.get("source") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(wrong_type("source", "a string")),
    };
    let conversations = match (object.get("conversations"), object.get("question")) {
        (Some(_), Some(_)) => return Err(RejectReason::AmbiguousConversation),
        (Some(value), None) => conversations(value)?,
        (None, Some(Value::String(question))) => vec![Turn { from: "human".into(), value: question.clone() }],
        (None, Some(_)) => return Err(wrong_type("question", "a string")),
        (None, None) => return Err(RejectReason::MissingField { field: "conversations".into() }),
    };
    let image = match object.get("image") {
        None | Some(Value::Null) => None,
        Some(Value::String(reference)) => Some(image(reference, settings)?),
        Some(_) => return Err(wrong_type("image", "a path or data: URI string")),
    };
    for field in KNOWN_FIELDS {
        object.remove(field);
    }
    Ok(RawRecord { row_number, id: id.to_owned(), source, conversations, image, extra: std::mem::take(object) })
}

fn conversations(value: &Value) -> Result<Vec<Turn>, RejectReason> {
    let Value::Array(turns) = value else {
        return Err(wrong_type("conversations", "an array of {from, value}"));
    };
    if turns.is_empty() {
        return Err(RejectReason::EmptyConversation);
    }
    turns
        .iter()
        .enumerate()
        .map(|(index, turn)| {
            let field = |name: &str| match turn.get(name) {
                Some(Value::String(text)) => Ok(text.clone()),
                _ => Err(wrong_type(&format!("conversations[{index}].{name}"), "a string")),
            };
            Ok(Turn { from: field("from")?, value: field("value")? })
        })
        .collect()
}

fn image(reference: &str, settings: &ReadSettings) -> Result<RawImage, RejectReason> {
    if let Some(uri) = reference.strip_prefix("data:") {
        let Some((media_type, data)) = uri.split_once(',') else {
            return Err(RejectReason::BadDataUri { reason: "no ',' before the data".into() });
        };
        if !media_type.ends_with(";base64") {
            return Err(RejectReason::BadDataUri { reason: format!("{media_type:?} is not base64") });
        }
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(RawImage::Bytes)
            .map_err(|e| RejectReason::BadDataUri { reason: e.to_string() });
    }
    if reference.starts_with("sha256:") {
        return artifacts::Digest::parse(reference)
            .map(RawImage::Stored)
            .map_err(|_| RejectReason::BadArtifactRef { reference: reference.to_owned() });
    }
    resolve_image_path(settings, reference).map(RawImage::File)
}

pub(crate) fn wrong_type(field: &str, expected: &str) -> RejectReason {
    RejectReason::WrongType { field: field.to_owned(), expected: expected.to_owned() }
}
