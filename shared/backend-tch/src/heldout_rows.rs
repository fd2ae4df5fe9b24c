//! Held-out rows for the offline tools (`criticloop-heldout-eval`, `criticloop-critic-eval`): import-format
//! JSONL (`criticloop world items`: `id`, `question`, `image` as a base64 `data:` URI, the ground truth under
//! `world`), with each image written to a folder so the backends can read it by path.

use std::path::Path;

use anyhow::{Context, Result};
use base64::Engine as _;
use serde_json::Value;

/// One row: its id, question, image path (if it has one) and the whole row (the suites read `world`).
#[derive(Debug, Clone)]
pub struct HeldoutRow {
    pub id: String,
    pub question: String,
    pub image: Option<String>,
    pub row: Value,
}

/// Reads `items`, writing row n's image to `images/n.png`. Errors name the line and the field.
pub fn read(items: &Path, images: &Path) -> Result<Vec<HeldoutRow>> {
    std::fs::create_dir_all(images).with_context(|| format!("creating {}", images.display()))?;
    let text = std::fs::read_to_string(items).with_context(|| format!("reading {}", items.display()))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let row: Value = serde_json::from_str(line).with_context(|| format!("line {}", n + 1))?;
        let field = |k: &str| row[k].as_str().map(str::to_string);
        let id = field("id").with_context(|| format!("line {}: no `id`", n + 1))?;
        let image = match field("image") {
            Some(uri) => {
                let data = uri
                    .split_once(";base64,")
                    .map(|(_, d)| d)
                    .with_context(|| format!("line {}: `image` is not a base64 data: URI", n + 1))?;
                let path = images.join(format!("{n}.png"));
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(data)
                    .with_context(|| format!("line {}: `image`", n + 1))?;
                std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
                Some(path.display().to_string())
            }
            None => None,
        };
        let question = field("question").with_context(|| format!("line {}: no `question`", n + 1))?;
        rows.push(HeldoutRow { id, question, image, row });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_read_with_their_images_and_bad_lines_are_named() {
        let dir = std::env::temp_dir().join(format!("heldout-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let png = base64::engine::general_purpose::STANDARD.encode(b"not really a png");
        let good = format!(
            "{{\"id\":\"a\",\"question\":\"q?\",\"image\":\"data:image/png;base64,{png}\"}}\n\n{{\"id\":\"b\",\"question\":\"r?\"}}\n"
        );
        std::fs::write(dir.join("good.jsonl"), good).expect("write");
        let rows = read(&dir.join("good.jsonl"), &dir.join("images")).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].id.as_str(), rows[1].question.as_str()), ("a", "r?"));
        let path = rows[0].image.as_deref().expect("an image");
        assert_eq!(std::fs::read(path).expect("image written"), b"not really a png");
        assert!(rows[1].image.is_none());
        std::fs::write(dir.join("bad.jsonl"), "{\"id\":\"a\",\"question\":\"q\"}\n{\"question\":\"q\"}\n")
            .expect("write");
        let err = read(&dir.join("bad.jsonl"), &dir.join("images")).expect_err("no id on line 2");
        assert_eq!(err.to_string(), "line 2: no `id`");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
