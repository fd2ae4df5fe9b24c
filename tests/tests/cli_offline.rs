//! `criticloop critic parse` and `criticloop metrics`: offline tools, stdin to stdout, checked against
//! hand-computed values.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `criticloop ARGS` with `input` on stdin; returns (success, stdout, stderr).
fn pipe(args: &[&str], input: &str) -> anyhow::Result<(bool, String, String)> {
    let mut child = Command::new(devcluster::bin_dir().join("criticloop"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?.write_all(input.as_bytes())?;
    let out = child.wait_with_output()?;
    Ok((out.status.success(), String::from_utf8(out.stdout)?, String::from_utf8(out.stderr)?))
}

const PAIRWISE: &str = r#"{"id":1,"output":"Both are fine, but the second is more accurate. The better response: [2].","label":"second","model_a":"x","model_b":"y"}
{"id":2,"output":"**Response 1** is clearly better.","label":"first","model_a":"y","model_b":"x"}

{"id":3,"output":"I cannot decide.","label":"tie","model_a":"x","model_b":"y"}
{"id":4,"output":"Two responses are equally good.","label":"first","model_a":"y","model_b":"x"}
"#;

#[test]
fn cli_critic_parse_then_metrics_pairwise() -> anyhow::Result<()> {
    let (ok, out, err) = pipe(&["critic", "parse", "--format", "critic_pairwise"], PAIRWISE)?;
    assert!(ok, "{err}");
    let rows: Vec<Value> = out.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(rows.len(), 4, "blank lines are skipped");
    let predictions: Vec<&Value> = rows.iter().map(|r| &r["prediction"]).collect();
    assert_eq!(predictions, [&Value::from("second"), &Value::from("first"), &Value::Null, &Value::from("tie")]);
    assert_eq!(rows[2]["parsed"]["status"], "unparsed");
    assert!(rows[2]["parsed"]["reason"].as_str().is_some_and(|r| !r.is_empty()));
    assert_eq!(rows[0]["id"], 1, "input fields are kept");

    let (ok, out, err) = pipe(&["metrics", "--bootstrap", "20"], &out)?;
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(&out)?;
    // with ties: hits on rows 1 and 2 of 4; without ties: row 3 (label tie) dropped, hits 2 of 3
    assert_eq!(m["counts"]["with_ties"], serde_json::json!({"hits": 2, "total": 4}));
    assert_eq!(m["counts"]["without_ties"], serde_json::json!({"hits": 2, "total": 3}));
    assert_eq!(m["counts"]["unparsed"], 1);
    assert_eq!(m["accuracy_with_ties"], 0.5);
    assert!(m["elo"].is_object(), "model names give Elo ratings: {m:#}");
    Ok(())
}

#[test]
fn cli_metrics_pointwise_correlations() -> anyhow::Result<()> {
    // scores are a monotone (non-linear) function of the labels: Spearman = Kendall = 1, Pearson < 1
    let rows: String = [(1.0, 1.0, "a"), (2.0, 4.0, "a"), (3.0, 9.0, "b"), (4.0, 16.0, "b")]
        .iter()
        .map(|(label, score, model)| format!("{{\"label\":{label},\"score\":{score},\"model\":\"{model}\"}}\n"))
        .collect::<String>()
        + "{\"label\":5,\"score\":null,\"model\":\"b\"}\n";
    let (ok, out, err) = pipe(&["metrics"], &rows)?;
    assert!(ok, "{err}");
    let m: Value = serde_json::from_str(&out)?;
    assert_eq!(m["unparsed"], 1);
    assert_eq!(m["spearman"], 1.0);
    assert_eq!(m["kendall_tau_b"], 1.0);
    let pearson = m["pearson"].as_f64().unwrap_or(f64::NAN);
    // pearson of (1,2,3,4) with (1,4,9,16), numpy.corrcoef: 0.9843740386976972
    assert!((pearson - 0.984_374_038_697_697_2).abs() < 1e-9, "{pearson}");
    assert_eq!(m["models"]["judge_mean_score"]["a"], 2.5);
    assert_eq!(m["models"]["label_mean_score"]["b"], 3.5);
    Ok(())
}

#[test]
fn cli_offline_tools_name_the_bad_line_and_the_bad_format() -> anyhow::Result<()> {
    let (ok, _, err) = pipe(&["critic", "parse", "--format", "critic_pairwise"], "{\"output\":\"[1]\"}\n{oops\n")?;
    assert!(!ok);
    assert!(err.contains("line 2"), "{err}");
    let (ok, _, err) = pipe(&["critic", "parse", "--format", "nope"], "")?;
    assert!(!ok);
    assert!(err.contains("unknown --format `nope`") && err.contains("critic_pairwise"), "{err}");
    let (ok, _, err) = pipe(&["critic", "parse", "--format", "mmhal"], "{\"text\":\"x\"}\n")?;
    assert!(!ok);
    assert!(err.contains("line 1") && err.contains("`output`"), "{err}");
    let (ok, _, err) = pipe(&["metrics"], "{\"prediction\":\"first\",\"label\":\"maybe\"}\n")?;
    assert!(!ok);
    assert!(err.contains("line 1") && err.contains("label"), "{err}");
    Ok(())
}

/// `criticloop world items` is a pure function of its seed and writes rows the importer reads, with their
/// ground truth; `critic-data` writes pairwise and pointwise judgments that `critic parse` reads back as
/// the ground truth's verdicts and scores, with each row's image beside the file.
#[test]
fn cli_world_items_are_reproducible_and_critic_data_parses_to_its_verdicts() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("criticloop-cli-world-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = |name: &str| dir.join(name).display().to_string();
    for name in ["a.jsonl", "b.jsonl"] {
        let (ok, _, err) = pipe(&["world", "items", "--seed", "5", "--count", "40", "-o", &path(name)], "")?;
        assert!(ok, "{err}");
    }
    let a = std::fs::read_to_string(dir.join("a.jsonl"))?;
    assert_eq!(a, std::fs::read_to_string(dir.join("b.jsonl"))?, "same seed, same bytes");
    let rows: Vec<Value> = a.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(rows.len(), 40);
    for row in &rows {
        assert!(row["image"].as_str().is_some_and(|i| i.starts_with("data:image/png;base64,")), "{row}");
        let truth = world::parse_truth(row).ok_or_else(|| anyhow::anyhow!("no ground truth in {row}"))?;
        assert_eq!(truth.family.is_short(), truth.answer.is_some(), "{row}");
    }

    let (ok, _, err) =
        pipe(&["world", "critic-data", "--seed", "5", "--count", "60", "-o", &path("critic.jsonl")], "")?;
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(dir.join("critic.jsonl"))?;
    // `critic parse` reads `output`: the chosen judgment of each row; pairwise rows carry their `verdict`,
    // pointwise ones (a quarter by default) their `score`
    let (mut pairwise, mut pointwise) = (String::new(), String::new());
    for l in text.lines() {
        let row: Value = serde_json::from_str(l)?;
        let image = row["images"][0].as_str().unwrap_or_default();
        anyhow::ensure!(dir.join(image).is_file(), "missing image {image}");
        let output = row["chosen"][0]["content"].clone();
        let prompt = row["prompt"][0]["content"].as_str().unwrap_or_default();
        if row.get("score").is_some() {
            assert!(prompt.contains("Score the response out of 100"), "{prompt}");
            pointwise.push_str(&format!("{}\n", serde_json::json!({"output": output, "expected": row["score"]})));
        } else {
            assert!(prompt.contains("Determine which answer is better"), "{prompt}");
            pairwise.push_str(&format!("{}\n", serde_json::json!({"output": output, "verdict": row["verdict"]})));
        }
    }
    assert!(pointwise.lines().count() >= 5 && pairwise.lines().count() >= 30, "{pointwise}");
    let (ok, parsed, err) = pipe(&["critic", "parse", "--format", "critic_pairwise"], &pairwise)?;
    assert!(ok, "{err}");
    let mut kinds = std::collections::BTreeSet::new();
    for line in parsed.lines() {
        let row: Value = serde_json::from_str(line)?;
        assert_eq!(row["prediction"], row["verdict"], "{row}");
        kinds.insert(row["verdict"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(kinds.len(), 3, "first, second and tie all occur: {kinds:?}");
    let (ok, parsed, err) = pipe(&["critic", "parse", "--format", "critic_pointwise"], &pointwise)?;
    assert!(ok, "{err}");
    for line in parsed.lines() {
        let row: Value = serde_json::from_str(line)?;
        assert_eq!(row["parsed"]["verdict"]["value"].as_f64(), row["expected"].as_f64(), "{row}");
    }

    // --describe-quality draws descriptions at their own quality: with short answers always right, every
    // short pair is a tie, and only descriptions are decided
    let mut decided = std::collections::BTreeMap::new();
    for describe in [None, Some("0.3")] {
        let out = path("q.jsonl");
        let mut args = vec!["world", "critic-data", "--seed", "5", "--count", "60", "--quality", "1"];
        args.extend(["--pointwise-share", "0", "-o", &out]);
        if let Some(q) = describe {
            args.extend(["--describe-quality", q]);
        }
        let (ok, _, err) = pipe(&args, "")?;
        assert!(ok, "{err}");
        for row in std::fs::read_to_string(&out)?.lines() {
            let row: Value = serde_json::from_str(row)?;
            let prompt = row["prompt"][0]["content"].as_str().unwrap_or_default();
            let key = (describe, !prompt.contains(world::tasks::DESCRIBE_PROMPT));
            *decided.entry(key).or_insert(0) += usize::from(row["verdict"] != "tie");
        }
    }
    assert_eq!(decided[&(None, true)] + decided[&(None, false)] + decided[&(Some("0.3"), true)], 0, "{decided:?}");
    assert!(decided[&(Some("0.3"), false)] >= 3, "{decided:?}");
    // --copies-only keeps each judgment's opening, the responses copied, and nothing after it
    let mut chosen = vec![];
    for (name, extra) in [("full.jsonl", None), ("copies.jsonl", Some("--copies-only"))] {
        let out = path(name);
        let mut args = vec!["world", "critic-data", "--seed", "6", "--count", "40", "--pointwise-share", "0"];
        args.extend(["-o", &out]);
        args.extend(extra);
        let (ok, _, err) = pipe(&args, "")?;
        assert!(ok, "{err}");
        let rows: Vec<Value> =
            std::fs::read_to_string(&out)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
        chosen.push(
            rows.iter().map(|r| r["chosen"][0]["content"].as_str().unwrap_or_default().to_string()).collect::<Vec<_>>(),
        );
    }
    let mut described = 0;
    for (full, copies) in chosen[0].iter().zip(&chosen[1]) {
        assert!(full.starts_with(&format!("{copies} ")) && copies.starts_with("Response 1 "), "{copies}\n{full}");
        assert!(!copies.contains("The answer is") && !copies.contains('\n'), "{copies}");
        described += usize::from(copies.contains("Response 2 says \""));
    }
    assert!(described >= 3, "{described} description pairs in 40 rows");
    let args = ["world", "critic-data", "--describe-quality", "2", "-o", &path("bad.jsonl")];
    let (ok, _, err) = pipe(&args, "")?;
    assert!(!ok && err.contains("--describe-quality"), "{err}");

    // fine-tuning data at quality 1 is the ground truth itself
    let args = ["world", "sft-data", "--seed", "5", "--count", "40", "--quality", "1", "-o", &path("sft.jsonl")];
    let (ok, _, err) = pipe(&args, "")?;
    assert!(ok, "{err}");
    let sft: Vec<Value> =
        std::fs::read_to_string(dir.join("sft.jsonl"))?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
    assert_eq!(sft.len(), rows.len());
    for (example, row) in sft.iter().zip(&rows) {
        assert_eq!(example["id"], row["id"]);
        let truth = world::parse_truth(row).ok_or_else(|| anyhow::anyhow!("no truth"))?;
        let answer = example["chosen"][0]["content"].as_str().unwrap_or_default();
        match &truth.answer {
            Some(expected) => assert!(world::exact_match(answer, expected), "{answer} vs {expected}"),
            None => assert_eq!(world::score_description(answer, &truth.scene.objects).f1, 1.0, "{answer}"),
        }
        assert!(dir.join(example["images"][0].as_str().unwrap_or_default()).is_file());
    }

    // listed answers read the scene out first (colour, presence, count; with --listed-relations relations
    // too, with each object's cell); descriptions, and relations without the flag, are unchanged
    for (flags, listed_families) in [(&["--listed"][..], 3), (&["--listed", "--listed-relations"][..], 4)] {
        let mut args = vec!["world", "sft-data", "--seed", "5", "--count", "40", "--quality", "1"];
        args.extend(flags);
        let out = path("l.jsonl");
        args.extend(["-o", &out]);
        let (ok, _, err) = pipe(&args, "")?;
        assert!(ok, "{err}");
        let listed: Vec<Value> =
            std::fs::read_to_string(&out)?.lines().map(serde_json::from_str).collect::<Result<_, _>>()?;
        let mut families = std::collections::BTreeSet::new();
        for ((example, plain), row) in listed.iter().zip(&sft).zip(&rows) {
            assert_eq!(example["id"], row["id"]);
            let truth = world::parse_truth(row).ok_or_else(|| anyhow::anyhow!("no truth"))?;
            let answer = example["chosen"][0]["content"].as_str().unwrap_or_default();
            let listing = match truth.family {
                world::Family::Relation => world::text::positioned_listing(&truth.scene),
                _ => world::text::listing(&truth.scene),
            };
            match truth.answer.as_deref() {
                Some(expected) if answer.starts_with(&listing) => {
                    assert!(answer.ends_with(&format!(" {expected}.")), "{answer}");
                    families.insert(format!("{:?}", truth.family));
                }
                _ => assert_eq!(example["chosen"], plain["chosen"], "{flags:?}: {answer}"),
            }
        }
        assert_eq!(families.len(), listed_families, "{flags:?}: {families:?}");
    }
    let args = ["world", "sft-data", "--count", "4", "--quality", "0.8", "--listed", "-o", &path("m.jsonl")];
    let (ok, _, err) = pipe(&args, "")?;
    assert!(!ok && err.contains("--listed") && err.contains("--quality 1"), "{err}");
    let args = ["world", "sft-data", "--count", "4", "--quality", "1", "--listed-relations", "-o", &path("m.jsonl")];
    let (ok, _, err) = pipe(&args, "")?;
    assert!(!ok && err.contains("--listed-relations") && err.contains("--listed"), "{err}");

    let (ok, _, err) = pipe(&["world", "items", "--families", "colour,bogus", "-o", &path("x.jsonl")], "")?;
    assert!(!ok && err.contains("--families") && err.contains("unknown family `bogus` (colour, count"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `criticloop-heldout-eval` scores a checkpoint on `criticloop world items` rows as the evaluation worker
/// does: every row is answered and counted in its suite.
#[test]
fn cli_heldout_eval_scores_every_world_row() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("criticloop-heldout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let items = dir.join("items.jsonl").display().to_string();
    // 32 px images: one tile of the fixture's vision tower
    let (ok, _, err) =
        pipe(&["world", "items", "--seed", "9", "--count", "12", "--image-size", "32", "-o", &items], "")?;
    assert!(ok, "{err}");
    let checkpoint = criticloop_tests::fixtures::llava_fixtures()?.join("llava-ov");
    let out = Command::new(devcluster::bin_dir().join("criticloop-heldout-eval"))
        .args(["--checkpoint", &checkpoint.display().to_string(), "--items", &items, "--max-new-tokens", "6"])
        .output()?;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let suites: Value = serde_json::from_slice(&out.stdout)?;
    let short = suites["world/short"]["items"].as_u64().unwrap_or(0);
    let describe = suites["world/describe"]["items"].as_u64().unwrap_or(0);
    assert_eq!(short + describe, 12, "{suites:#}");
    assert_eq!(suites["world/short"]["failed"].as_u64(), Some(0), "{suites:#}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `criticloop-critic-eval` judges both orders of every pair of distinct responses, whether drawn from the
/// world or sampled from a policy, and labels each order with the ground truth's verdict on it; rows
/// without ground truth are refused by id. (The fixture critic is random: its verdicts rarely parse, so
/// this checks the accounting, not the accuracy; `scripts/world/train_critic` measures a trained one.)
#[test]
fn cli_critic_eval_judges_both_orders_of_every_distinct_pair() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("criticloop-critic-eval-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let items = dir.join("items.jsonl").display().to_string();
    let (ok, _, err) =
        pipe(&["world", "items", "--seed", "4", "--count", "10", "--image-size", "32", "-o", &items], "")?;
    assert!(ok, "{err}");
    let checkpoint = criticloop_tests::fixtures::llava_fixtures()?.join("llava-ov").display().to_string();
    let run = |extra: &[&str]| -> anyhow::Result<std::process::Output> {
        let mut args = vec!["--critic", &checkpoint, "--items", &items, "--critic-max-new-tokens", "8"];
        args.extend_from_slice(extra);
        Ok(Command::new(devcluster::bin_dir().join("criticloop-critic-eval")).args(&args).output()?)
    };
    for extra in [&["--quality", "0.5"][..], &["--policy", &checkpoint, "--max-new-tokens", "4"][..]] {
        let out = run(extra)?;
        assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
        let report: Value = serde_json::from_slice(&out.stdout)?;
        let pairs = report["pairs"].as_u64().unwrap_or(0);
        assert!(pairs > 0, "{extra:?}: no pair of distinct responses: {report:#}");
        assert_eq!(pairs + report["identical_pairs_skipped"].as_u64().unwrap_or(99), 10, "{report:#}");
        assert_eq!(report["judgments"].as_u64(), Some(2 * pairs), "{report:#}");
        let oracle = &report["oracle"];
        // each pair is shown both ways, so the ground truth prefers the first response as often as the second
        assert_eq!(oracle["first"], oracle["second"], "{report:#}");
        let labelled: u64 = ["first", "second", "tie"].iter().filter_map(|k| oracle[k].as_u64()).sum();
        assert_eq!(labelled, 2 * pairs, "{report:#}");
        let kinds =
            report["short"]["judgments"].as_u64().unwrap_or(0) + report["describe"]["judgments"].as_u64().unwrap_or(0);
        assert_eq!(kinds, 2 * pairs, "{report:#}");
    }
    let bare = dir.join("bare.jsonl");
    std::fs::write(&bare, "{\"id\":\"q7\",\"question\":\"What colour is it?\"}\n")?;
    let out = Command::new(devcluster::bin_dir().join("criticloop-critic-eval"))
        .args(["--critic", &checkpoint, "--items", &bare.display().to_string()])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("row q7: no `world` ground truth"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
