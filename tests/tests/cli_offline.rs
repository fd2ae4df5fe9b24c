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
