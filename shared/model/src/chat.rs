//! Chat templates rendered as transformers renders them: Jinja (minijinja) with `trim_blocks` and
//! `lstrip_blocks`, loop controls, Python string methods, `raise_exception`, and transformers' own
//! `tojson` (Python `json.dumps`: no HTML escaping, `", "` / `": "` separators, `ensure_ascii=False`).
//! Source of truth: `transformers/utils/chat_template_utils.py` (`_cached_compile_jinja_template`).

use std::path::Path;

use minijinja::value::{Kwargs, Value as JValue, ValueKind};
use minijinja::{Environment, Error, ErrorKind};
use serde::Serialize;
use serde_json::Value;

use crate::error::{ModelError, Result, read_json};
use crate::tokenizer::SpecialTokens;

pub struct ChatTemplate {
    env: Environment<'static>,
    source: String,
    special: SpecialTokens,
}

/// One message with plain text content; templates also accept any JSON (list content, tool calls).
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: &str) -> Self {
        Message { role: role.to_string(), content: content.to_string() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ChatOptions {
    pub add_generation_prompt: bool,
    /// Tool descriptions (JSON schema objects), passed as `tools`. A `minijinja::Value` keeps the key order
    /// it was built with (`serde_json::from_str::<minijinja::Value>` keeps the document's order, which
    /// `tojson` reproduces; a `serde_json::Value` without its `preserve_order` feature sorts keys).
    pub tools: Option<JValue>,
}

impl ChatTemplate {
    /// Finds the template the way transformers 5 does: `chat_template.jinja`, else `chat_template.json`,
    /// else the `chat_template` key of `tokenizer_config.json` (a string, or a list of named templates of
    /// which `default` is used).
    pub fn from_dir(dir: &Path) -> Result<Self> {
        Self::from_dir_optional(dir)?.ok_or_else(|| ModelError::NoChatTemplate { dir: dir.to_path_buf() })
    }

    /// `from_dir`, with `None` for a checkpoint that has no chat template.
    pub fn from_dir_optional(dir: &Path) -> Result<Option<Self>> {
        let jinja = dir.join("chat_template.jinja");
        let json = dir.join("chat_template.json");
        let config = dir.join("tokenizer_config.json");
        let source = if jinja.is_file() {
            Some(std::fs::read_to_string(&jinja).map_err(crate::error::io_err(&jinja))?)
        } else if json.is_file() {
            template_of(&read_json(&json)?)
        } else if config.is_file() {
            template_of(&read_json(&config)?)
        } else {
            None
        };
        let Some(source) = source else { return Ok(None) };
        Self::new(source, SpecialTokens::from_dir(dir)?).map(Some)
    }

    pub fn new(source: String, special: SpecialTokens) -> Result<Self> {
        let mut env = Environment::new();
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        env.add_function("raise_exception", |message: String| -> std::result::Result<JValue, Error> {
            Err(Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_filter("tojson", tojson);
        env.add_template_owned("chat_template", source.clone())
            .map_err(|e| ModelError::ChatTemplate(format!("does not compile: {e:#}")))?;
        Ok(ChatTemplate { env, source, special })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Renders `messages` (anything that serialises to the message objects the template expects).
    pub fn render<M: Serialize>(&self, messages: &[M], opts: &ChatOptions) -> Result<String> {
        let template =
            self.env.get_template("chat_template").map_err(|e| ModelError::ChatTemplate(format!("{e:#}")))?;
        let s = &self.special;
        let ctx = minijinja::context! {
            messages => JValue::from_serialize(messages),
            tools => opts.tools.clone(),
            add_generation_prompt => opts.add_generation_prompt,
            bos_token => s.bos_token.clone(),
            eos_token => s.eos_token.clone(),
            pad_token => s.pad_token.clone(),
            unk_token => s.unk_token.clone(),
        };
        template.render(ctx).map_err(|e| {
            // raise_exception's message first, as transformers' TemplateError carries it
            let detail = e.detail().map(str::to_string).unwrap_or_default();
            ModelError::ChatTemplate(format!("{detail} ({e:#})"))
        })
    }
}

fn template_of(v: &Value) -> Option<String> {
    match v.get("chat_template")? {
        Value::String(s) => Some(s.clone()),
        Value::Array(list) => list.iter().find_map(|t| {
            (t.get("name")?.as_str()? == "default").then(|| t.get("template")?.as_str().map(str::to_string))?
        }),
        _ => None,
    }
}

/// transformers' `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`, which is
/// Python's `json.dumps` with those arguments.
fn tojson(value: JValue, kwargs: Kwargs) -> std::result::Result<JValue, Error> {
    let ensure_ascii: Option<bool> = kwargs.get("ensure_ascii")?;
    let indent: Option<JValue> = kwargs.get("indent")?;
    let separators: Option<Vec<String>> = kwargs.get("separators")?;
    let sort_keys: Option<bool> = kwargs.get("sort_keys")?;
    kwargs.assert_all_used()?;
    let indent = match indent {
        None => None,
        Some(v) if v.is_none() || v.is_undefined() => None,
        Some(v) => Some(match v.as_str() {
            Some(s) => s.to_string(),
            None => " ".repeat(usize::try_from(v).map_err(|_| Error::new(ErrorKind::InvalidOperation, "indent"))?),
        }),
    };
    let (item_sep, key_sep) = match separators.as_deref() {
        Some([a, b]) => (a.clone(), b.clone()),
        Some(_) => return Err(Error::new(ErrorKind::InvalidOperation, "separators must be a pair")),
        None if indent.is_some() => (",".to_string(), ": ".to_string()),
        None => (", ".to_string(), ": ".to_string()),
    };
    let style = PyJson {
        ensure_ascii: ensure_ascii.unwrap_or(false),
        indent,
        item_sep,
        key_sep,
        sort_keys: sort_keys.unwrap_or(false),
    };
    let mut out = String::new();
    style.write(&value, 0, &mut out)?;
    Ok(JValue::from(out))
}

struct PyJson {
    ensure_ascii: bool,
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
}

impl PyJson {
    fn newline(&self, depth: usize, out: &mut String) {
        if let Some(ind) = &self.indent {
            out.push('\n');
            for _ in 0..depth {
                out.push_str(ind);
            }
        }
    }

    /// Writes `v` in its own order (maps keep insertion order: minijinja is built with `preserve_order`).
    fn write(&self, v: &JValue, depth: usize, out: &mut String) -> std::result::Result<(), Error> {
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => out.push_str("null"),
            ValueKind::Bool => out.push_str(if v.is_true() { "true" } else { "false" }),
            ValueKind::Number => match v.as_i64() {
                Some(i) => out.push_str(&i.to_string()),
                None => out.push_str(&py_float(f64::try_from(v.clone())?)),
            },
            ValueKind::String => self.string(v.as_str().unwrap_or_default(), out),
            ValueKind::Map => {
                let mut keys: Vec<JValue> = v.try_iter()?.collect();
                if keys.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                if self.sort_keys {
                    keys.sort();
                }
                out.push('{');
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&self.item_sep);
                    }
                    self.newline(depth + 1, out);
                    match k.as_str() {
                        Some(s) => self.string(s, out),
                        None => self.string(&k.to_string(), out),
                    }
                    out.push_str(&self.key_sep);
                    self.write(&v.get_item(k)?, depth + 1, out)?;
                }
                self.newline(depth, out);
                out.push('}');
            }
            ValueKind::Seq | ValueKind::Iterable => {
                let items: Vec<JValue> = v.try_iter()?.collect();
                if items.is_empty() {
                    out.push_str("[]");
                    return Ok(());
                }
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&self.item_sep);
                    }
                    self.newline(depth + 1, out);
                    self.write(x, depth + 1, out)?;
                }
                self.newline(depth, out);
                out.push(']');
            }
            other => {
                return Err(Error::new(ErrorKind::InvalidOperation, format!("tojson: cannot serialise a {other}")));
            }
        }
        Ok(())
    }

    fn string(&self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c if self.ensure_ascii && !c.is_ascii() => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// Python's `repr(float)` for the common cases (shortest round-trip digits, `.0` on integral values).
fn py_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let s = format!("{f:?}");
    if s.contains('e') {
        // Rust: 1e-7, Python: 1e-07
        if let Some((m, e)) = s.split_once('e') {
            let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
            return format!("{m}e{sign}{digits:0>2}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dumps(json: &str, kwargs: Vec<(&str, JValue)>) -> String {
        let kw = Kwargs::from_iter(kwargs);
        let v: JValue = serde_json::from_str(json).expect("test JSON");
        let out = tojson(v, kw);
        match out {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn tojson_matches_python_json_dumps() {
        // expected strings are what Python's json.dumps prints for these values and arguments
        let v = r#"{"b": [1, 2.5, null, true], "a": "<é\n>"}"#;
        assert_eq!(dumps(v, vec![]), r#"{"b": [1, 2.5, null, true], "a": "<é\n>"}"#);
        assert_eq!(
            dumps(v, vec![("sort_keys", JValue::from(true)), ("ensure_ascii", JValue::from(true))]),
            r#"{"a": "<\u00e9\n>", "b": [1, 2.5, null, true]}"#
        );
        assert_eq!(
            dumps(v, vec![("indent", JValue::from(2))]),
            "{\n  \"b\": [\n    1,\n    2.5,\n    null,\n    true\n  ],\n  \"a\": \"<é\\n>\"\n}"
        );
        assert_eq!(py_float(1e-7), "1e-07");
        assert_eq!(py_float(3.0), "3.0");
    }
}
