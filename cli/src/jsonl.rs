//! Reading JSONL from stdin: every line an object, errors naming the line.

use serde_json::{Map, Value};
use std::io::BufRead;

/// The objects of `input`, skipping blank lines; a line that is not a JSON object is an error naming it.
pub fn objects(input: impl BufRead) -> anyhow::Result<Vec<(usize, Map<String, Value>)>> {
    let mut out = Vec::new();
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(map)) => out.push((n + 1, map)),
            Ok(_) => anyhow::bail!("line {}: expected a JSON object", n + 1),
            Err(e) => anyhow::bail!("line {}: not valid JSON: {e}", n + 1),
        }
    }
    Ok(out)
}
