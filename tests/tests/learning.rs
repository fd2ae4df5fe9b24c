//! `learning_*`: the loop learns on the small world (`scripts/world/train_small`: one object per image,
//! colour questions and descriptions), with the policy and critic criticloop trains itself
//! (`criticloop_tests::small_world`, trained once with the binaries under test and cached). The critic
//! judges ground-truth pairs well above chance; one round of critic-driven DPO through the real services
//! (`criticloop demo` on its own local cluster, tch backend on the CPU) gets pairs whose chosen response is
//! the better one by the ground truth far more often than the rejected one, and does not lower the policy's
//! held-out description F1.
//!
//! Ignored by default for now, for two reasons: training the small world costs about 30 minutes on two
//! cores the first time (then it is cached until an input changes), more than CI's budget allows yet; and
//! the round test does not pass yet. Session 29's critic passes the first test (world-sampled responses)
//! but not the policy's own samples: two rounds made 39 and 54 pairs, of which the ground truth ordered
//! 9 right and 3 inverted, then 9 and 9; it reads the object's shape from the responses, not the image
//! (README). Run them with
//! `cargo test --workspace --test learning -- --ignored`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use anyhow::Context;
use criticloop_tests::cli::run;
use criticloop_tests::small_world;
use serde_json::Value;

/// Held-out rows the critic is scored on here: the small world's, from a seed no training stage drew.
const CRITIC_ITEMS_SEED: &str = "3";

/// `3 / (2 sqrt(n))`: three standard errors of a coin's share over `n` trials.
fn three_se(n: usize) -> f64 {
    1.5 / (n as f64).sqrt()
}

/// The small world, trained or cached, and a guard that keeps this file's tests to one at a time: each runs
/// libtorch processes that take every core, and two at once on two cores slow each other down manyfold.
fn small_world() -> anyhow::Result<(small_world::SmallWorld, MutexGuard<'static, ()>)> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Ok((small_world::trained()?, guard))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
#[ignore = "trains the small world: about 30 min on two cores the first time (see the module doc)"]
fn learning_the_small_critic_judges_ground_truth_pairs_well_above_chance() -> anyhow::Result<()> {
    let (trained, _one_at_a_time) = small_world()?;
    let dir = tempfile_dir("critic")?;
    let items = dir.join("items.jsonl");
    run(
        "criticloop",
        &[
            "world",
            "items",
            "--seed",
            CRITIC_ITEMS_SEED,
            "--count",
            "200",
            "--families",
            "colour,describe",
            "--max-objects",
            "1",
            "-o",
            path(&items),
        ],
    )?;
    let report: Value = serde_json::from_str(&run(
        "criticloop-critic-eval",
        &[
            "--critic",
            path(&trained.critic),
            "--items",
            path(&items),
            "--quality",
            "0.6",
            "--seed",
            "5",
            "--critic-max-new-tokens",
            "256",
        ],
    )?)?;
    eprintln!("learning: the small critic on held-out pairs: {report:#}");
    // over the judgments where the ground truth prefers one response (both orders of every pair; the
    // critic's ties count as misses), right above chance by three standard errors of a coin over that many
    let total = report["without_ties_total"].as_u64().unwrap_or(0) as usize;
    let accuracy = report["accuracy_without_ties"].as_f64().with_context(|| format!("no accuracy: {report:#}"))?;
    assert!(total >= 100, "too few decided pairs to score the critic on ({total}): {report:#}");
    assert!(accuracy > 0.5 + three_se(total), "accuracy without ties {accuracy:.3} over {total}: {report:#}");
    // of each kind, where the critic picks a side too: the better response far more often than the worse
    for (kind, part) in [("colour", &report["short"]), ("descriptions", &report["describe"])] {
        let decided = part["decided"].as_u64().unwrap_or(0) as usize;
        assert!(decided >= 20, "{kind}: the critic picked a side {decided} times: {report:#}");
        let right = 1.0 - part["inverted"].as_f64().with_context(|| format!("{kind}: no inverted share"))?;
        let bar = 0.5 + three_se(decided);
        assert!(right > bar, "{kind}: right in {right:.3} of {decided} decided verdicts, chance + 3 SE is {bar:.3}");
    }
    let unparsed = report["unparsed"].as_u64().unwrap_or(u64::MAX);
    let judgments = report["judgments"].as_u64().unwrap_or(0);
    assert!(unparsed * 10 <= judgments, "{unparsed} of {judgments} verdicts unparsed");
    Ok(())
}

#[test]
#[ignore = "does not pass yet, and trains the small world: about 30 min the first time (see the module doc)"]
fn learning_one_round_of_critic_dpo_gets_right_pairs_and_does_not_lower_heldout_f1() -> anyhow::Result<()> {
    let (trained, _one_at_a_time) = small_world()?;
    let dir = tempfile_dir("round")?;
    let report_path = dir.join("report.json");
    let stdout = run(
        "criticloop",
        &[
            "demo",
            "--policy",
            path(&trained.policy),
            "--critic",
            path(&trained.critic),
            "--families",
            "colour,describe",
            "--max-objects",
            "1",
            "--prompts",
            "120",
            "--samples",
            "4",
            "--heldout",
            "100",
            "--rounds",
            "1",
            "--seed",
            "0",
            "--report",
            path(&report_path),
        ],
    )?;
    eprintln!("learning: the demo round:\n{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path)?)?;
    assert_eq!(report["state"], "completed", "{report:#}");
    let rounds = report["rounds"].as_array().context("no rounds in the report")?;
    assert_eq!(rounds.len(), 2, "round 0 (the starting policy) and round 1: {report:#}");

    // the round's pairs: the chosen response is the better one by the ground truth far more often than the
    // rejected one
    let q = &rounds[1]["quality"];
    let (pairs, right, inverted) =
        (q["pairs"].as_u64().unwrap_or(0), q["right"].as_u64().unwrap_or(0), q["inverted"].as_u64().unwrap_or(0));
    assert!(pairs >= 30, "the round made {pairs} pairs: {report:#}");
    let ordered = right + inverted;
    assert!(ordered > 0, "no pair that the ground truth orders: {report:#}");
    let share = right as f64 / ordered as f64;
    assert!(
        right >= 2 * inverted && share > 0.5 + three_se(ordered as usize),
        "{right} right and {inverted} inverted of {pairs} pairs: {report:#}"
    );

    // one round does not lower held-out description F1 (100 rows; the tolerance is well under one
    // standard error of the mean F1 there)
    let f1 = |round: &Value| round["scores"]["desc F1"].as_f64().context("no desc F1");
    let (before, after) = (f1(&rounds[0])?, f1(&rounds[1])?);
    assert!(after >= before - 0.02, "held-out description F1 fell from {before:.3} to {after:.3}");
    Ok(())
}

/// A fresh folder under the temporary directory for one test's files.
fn tempfile_dir(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("criticloop-learning-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
