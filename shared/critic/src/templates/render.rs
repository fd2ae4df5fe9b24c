//! Filling a template's placeholders: `{question}`, `{response1}`, `{response2}`, `{response}`,
//! `{reference}`. Values are inserted verbatim and never rescanned, so a response that itself contains
//! `{reference}` stays as written. Braces that do not form `{identifier}` are literal text.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A placeholder a template can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Question,
    Response1,
    Response2,
    Response,
    Reference,
}

impl Field {
    pub const ALL: [Field; 5] =
        [Field::Question, Field::Response1, Field::Response2, Field::Response, Field::Reference];

    /// The placeholder name, as written between braces.
    pub fn name(self) -> &'static str {
        match self {
            Field::Question => "question",
            Field::Response1 => "response1",
            Field::Response2 => "response2",
            Field::Response => "response",
            Field::Reference => "reference",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values to fill in; absent fields are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fields<'a> {
    pub question: Option<&'a str>,
    pub response1: Option<&'a str>,
    pub response2: Option<&'a str>,
    pub response: Option<&'a str>,
    pub reference: Option<&'a str>,
}

impl<'a> Fields<'a> {
    /// Question and two responses, for a pairwise template.
    pub fn pairwise(question: &'a str, response1: &'a str, response2: &'a str) -> Self {
        Fields { question: Some(question), response1: Some(response1), response2: Some(response2), ..Self::default() }
    }

    /// Question and one response, for a pointwise template.
    pub fn pointwise(question: &'a str, response: &'a str) -> Self {
        Fields { question: Some(question), response: Some(response), ..Self::default() }
    }

    pub fn with_reference(self, reference: &'a str) -> Self {
        Fields { reference: Some(reference), ..self }
    }

    pub fn get(&self, field: Field) -> Option<&'a str> {
        match field {
            Field::Question => self.question,
            Field::Response1 => self.response1,
            Field::Response2 => self.response2,
            Field::Response => self.response,
            Field::Reference => self.reference,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The template needs a field the caller did not give: supply it, or pick another template.
    #[error("template `{template}` needs field `{field}`, which was not given")]
    MissingField { template: String, field: Field },
    /// The template text names a placeholder criticloop does not know: the template is wrong.
    #[error("template `{template}` has unknown placeholder `{{{name}}}`")]
    UnknownPlaceholder { template: String, name: String },
}

/// A placeholder occurrence in a template text: the byte range of `{name}` and the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Slot<'t> {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) name: &'t str,
}

/// Every `{identifier}` in `text` (identifier: ASCII lowercase letters, digits, `_`), left to right.
pub(super) fn slots(text: &str) -> Vec<Slot<'_>> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' {
            let start = i;
            let mut j = i + 1;
            while bytes.get(j).is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_') {
                j += 1;
            }
            if j > start + 1 && bytes.get(j) == Some(&b'}') {
                // start..=j is ASCII, so these are char boundaries
                if let Some(name) = text.get(start + 1..j) {
                    out.push(Slot { start, end: j + 1, name });
                }
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Fill `text` (a template named `id` in errors) with `fields`.
pub fn render_text(id: &str, text: &str, fields: &Fields<'_>) -> Result<String, RenderError> {
    let slots = slots(text);
    let mut out = String::with_capacity(text.len() + 256);
    let mut last = 0;
    for slot in slots {
        let field = Field::from_name(slot.name)
            .ok_or_else(|| RenderError::UnknownPlaceholder { template: id.to_owned(), name: slot.name.to_owned() })?;
        let value = fields.get(field).ok_or_else(|| RenderError::MissingField { template: id.to_owned(), field })?;
        out.push_str(&text[last..slot.start]);
        out.push_str(value);
        last = slot.end;
    }
    out.push_str(&text[last..]);
    Ok(out)
}
