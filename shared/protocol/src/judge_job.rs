//! Judge jobs ("backlogs"): items submitted as JSONL to be judged by the critic outside any campaign,
//! optionally with labels to measure the critic's agreement against.
//!
//! One JSONL line is one [`JudgeItem`]:
//!
//! ```json
//! {"id": "wv-17", "question": "What is in the image?", "image": "sha256:9f86…",
//!  "responses": ["A cat.", "A dog."], "reference": "A cat on a mat.",
//!  "template": "llava-critic/pairwise", "label": "first", "models": ["model-x", "model-y"]}
//! ```
//!
//! Two responses make a pairwise item (label `first`, `second` or `tie`), one a pointwise item (label a
//! number on the template's scale).

use serde::{Deserialize, Serialize};

/// How a job is submitted: everything but its items (query parameters of `POST /v1/judge-jobs`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JudgeJobParams {
    /// A name to recognise the job by.
    #[serde(default)]
    pub name: Option<String>,
    /// 0 (lowest) to 9 (highest), default 4. Each step doubles the job's share of the judging workers
    /// while several jobs wait; every job keeps a share, so none starves.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// The critic checkpoint that judges the items (a path or artifact reference the workers load).
    pub critic: String,
    /// The template of items that name none. Default: `llava-critic/pairwise` for pairwise items,
    /// `llava-critic/pointwise` for pointwise ones.
    #[serde(default)]
    pub template: Option<String>,
}

pub const MAX_PRIORITY: u8 = 9;

pub fn default_priority() -> u8 {
    4
}

/// A label: the preferred response of a pairwise item, or the score of a pointwise one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Label {
    Preference(LabelPreference),
    Score(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LabelPreference {
    First,
    Second,
    Tie,
}

/// One item of a judge job, as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JudgeItem {
    /// The submitter's id for the item, echoed in the results.
    #[serde(default)]
    pub id: Option<String>,
    pub question: String,
    /// An artifact reference (`sha256:<hex>`) or a path/URL the workers can read; absent for text-only.
    #[serde(default)]
    pub image: Option<String>,
    /// One response (pointwise) or two (pairwise, shown in this order).
    pub responses: Vec<String>,
    /// A reference answer, for templates that compare against one.
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub template: Option<String>,
    #[serde(default)]
    pub label: Option<Label>,
    /// The models that wrote the responses, in the same order, for model-level rankings (Elo).
    #[serde(default)]
    pub models: Option<Vec<String>>,
}

/// A problem with one submitted line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LineError {
    /// 1-based line number in the upload.
    pub line: u64,
    pub message: String,
}

pub const MAX_TEXT_BYTES: usize = 256 * 1024;

impl JudgeItem {
    /// Parses and checks one JSONL line. Messages name the field.
    pub fn parse_line(text: &str) -> Result<Self, String> {
        let item: JudgeItem = serde_json::from_str(text).map_err(|e| format!("not a judge item: {e}"))?;
        item.check()?;
        Ok(item)
    }

    pub fn is_pairwise(&self) -> bool {
        self.responses.len() == 2
    }

    fn check(&self) -> Result<(), String> {
        if self.question.trim().is_empty() {
            return Err("`question` must not be empty".into());
        }
        if !(1..=2).contains(&self.responses.len()) {
            return Err(format!(
                "`responses` must hold one response (pointwise) or two (pairwise), not {}",
                self.responses.len()
            ));
        }
        if let Some(n) = self.responses.iter().position(|r| r.trim().is_empty()) {
            return Err(format!("`responses[{n}]` must not be empty"));
        }
        let long = [Some(&self.question), self.reference.as_ref()]
            .into_iter()
            .flatten()
            .chain(&self.responses)
            .any(|t| t.len() > MAX_TEXT_BYTES);
        if long {
            return Err(format!("a text field is longer than {MAX_TEXT_BYTES} bytes"));
        }
        if let Some(image) = &self.image {
            check_image_ref(image)?;
        }
        match (&self.label, self.is_pairwise()) {
            (Some(Label::Score(_)), true) => {
                return Err("`label` of a pairwise item must be first, second or tie".into());
            }
            (Some(Label::Preference(_)), false) => {
                return Err("`label` of a pointwise item must be a number".into());
            }
            (Some(Label::Score(s)), false) if !s.is_finite() => return Err("`label` must be finite".into()),
            _ => {}
        }
        if let Some(models) = &self.models {
            if models.len() != self.responses.len() {
                return Err(format!("`models` must name {} model(s), one per response", self.responses.len()));
            }
            if models.iter().any(|m| m.trim().is_empty()) {
                return Err("`models` must not hold empty names".into());
            }
        }
        Ok(())
    }
}

fn check_image_ref(image: &str) -> Result<(), String> {
    if let Some(hex) = image.strip_prefix("sha256:") {
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("`image` sha256 reference must have 64 hex digits".into());
        }
    } else if image.starts_with("data:") {
        // The API stores inline images and rewrites them to `sha256:` references before this check.
        return Err("`image`: inline images are stored by the API at submission; this item still has one \
                    (pass its `sha256:` reference, or a path the workers can read)"
            .into());
    } else if image.trim().is_empty() {
        return Err("`image` must not be empty".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_item_with_label() {
        let item = JudgeItem::parse_line(
            r#"{"question":"q","responses":["a","b"],"label":"tie","models":["x","y"],"image":"img/1.png"}"#,
        )
        .expect("a valid pairwise item");
        assert!(item.is_pairwise());
        assert_eq!(item.label, Some(Label::Preference(LabelPreference::Tie)));
    }

    #[test]
    fn pointwise_item_with_score() {
        let item =
            JudgeItem::parse_line(r#"{"question":"q","responses":["a"],"label":7.5}"#).expect("a valid pointwise item");
        assert_eq!(item.label, Some(Label::Score(7.5)));
    }

    #[test]
    fn errors_name_the_field() {
        let cases = [
            (r#"{"question":"","responses":["a"]}"#, "`question`"),
            (r#"{"question":"q","responses":[]}"#, "`responses`"),
            (r#"{"question":"q","responses":["a","b","c"]}"#, "`responses`"),
            (r#"{"question":"q","responses":["a"," "]}"#, "`responses[1]`"),
            (r#"{"question":"q","responses":["a","b"],"label":3}"#, "`label`"),
            (r#"{"question":"q","responses":["a"],"label":"first"}"#, "`label`"),
            (r#"{"question":"q","responses":["a","b"],"label":"better"}"#, "not a judge item"),
            (r#"{"question":"q","responses":["a","b"],"models":["x"]}"#, "`models`"),
            (r#"{"question":"q","responses":["a"],"image":"sha256:12"}"#, "`image`"),
            (r#"{"question":"q","responses":["a"],"colour":"red"}"#, "unknown field `colour`"),
            ("{not json", "not a judge item"),
        ];
        for (line, want) in cases {
            let Err(err) = JudgeItem::parse_line(line) else { panic!("{line} was accepted") };
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
