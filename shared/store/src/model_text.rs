//! Model text on its way into PostgreSQL. Neither `text` nor `jsonb` can hold a NUL character
//! (`invalid byte sequence for encoding "UTF8": 0x00`, `unsupported Unicode escape sequence`), and a
//! model's decoded output can contain one: a random checkpoint's answer did, and its evaluation failed
//! ten times before this replacement. Every insert of model-written text (samples, critic outputs and
//! verdicts, training and evaluation metrics) passes through here; NUL becomes U+FFFD, nothing else
//! changes.

use std::borrow::Cow;

use serde_json::Value;

const REPLACEMENT: &str = "\u{fffd}";

/// `text` with every NUL replaced by U+FFFD (borrowed when there is none).
pub fn text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') { Cow::Owned(text.replace('\0', REPLACEMENT)) } else { Cow::Borrowed(text) }
}

/// `value` with every NUL in its strings and keys replaced by U+FFFD.
pub fn json(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(text(s).into_owned()),
        Value::Array(items) => Value::Array(items.iter().map(json).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (text(k).into_owned(), json(v))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn nul_characters_are_replaced_everywhere_and_nothing_else_changes() {
        let metrics = json!({"f1": 0.5, "examples": [{"answer": "a\u{0}b", "id": "x"}], "k\u{0}": [1, null, true]});
        let safe = super::json(&metrics);
        assert_eq!(
            safe,
            json!({"f1": 0.5, "examples": [{"answer": "a\u{fffd}b", "id": "x"}], "k\u{fffd}": [1, null, true]})
        );
        assert!(!safe.to_string().contains("\\u0000"));
        assert!(matches!(super::text("plain"), std::borrow::Cow::Borrowed("plain")));
        assert_eq!(super::text("\0x\0"), "\u{fffd}x\u{fffd}");
    }
}
