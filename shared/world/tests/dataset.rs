//! The JSONL import format: lines parse, images decode to the same PNG, the truth comes back.

use base64::Engine as _;
use serde_json::Value;
use world::dataset::{parse_truth, write_jsonl};
use world::{World, WorldConfig, png_bytes, render};

#[test]
fn lines_carry_the_question_the_image_and_the_truth() {
    let items = World::items(5, 40, &WorldConfig::default()).expect("generates");
    let mut out = Vec::new();
    write_jsonl(&items, &mut out).expect("writes");
    let text = String::from_utf8(out).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), items.len());
    assert!(text.ends_with('\n'));
    for (line, item) in lines.iter().zip(&items) {
        let row: Value = serde_json::from_str(line).expect("each line is JSON");
        assert_eq!(row["id"], item.id.as_str());
        assert_eq!(row["source"], "world");
        assert_eq!(row["question"], item.question.as_str());
        let uri = row["image"].as_str().expect("an image string");
        let data = uri.strip_prefix("data:image/png;base64,").expect("a PNG data URI");
        let png = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
        assert_eq!(png, png_bytes(&render(item.scene())).expect("encodes"));
        let world = &row["world"];
        assert_eq!(world["family"], item.family().name());
        assert_eq!(world["answer"].as_str(), item.answer());
        let first = &world["objects"][0];
        for key in ["shape", "colour", "size", "x", "y"] {
            assert!(!first[key].is_null(), "objects[0].{key} is missing: {first}");
        }
        // from the `world` field, from the whole line, and from an importer row's `extra` map
        assert_eq!(parse_truth(world).as_ref(), Some(&item.truth));
        assert_eq!(parse_truth(&row).as_ref(), Some(&item.truth));
        let extra = serde_json::json!({ "world": world.clone(), "other": 1 });
        assert_eq!(parse_truth(&extra).as_ref(), Some(&item.truth));
    }
}

#[test]
fn malformed_truth_is_none() {
    for bad in [
        serde_json::json!(null),
        serde_json::json!({}),
        serde_json::json!({"world": {"family": "poetry", "answer": null, "objects": [], "seed": 1, "width": 48, "height": 48}}),
        serde_json::json!({"world": {"family": "count", "answer": "two", "objects": [{"shape": "blob"}], "seed": 1, "width": 48, "height": 48}}),
        serde_json::json!({"world": {"family": "count", "answer": "two", "objects": []}}),
    ] {
        assert_eq!(parse_truth(&bad), None, "{bad}");
    }
}
