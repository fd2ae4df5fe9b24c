//! The `criticloop` command against a local cluster of the real binaries.

use criticloop_tests::cli::Out;
use criticloop_tests::{Cluster, ClusterOptions};
use serde_json::Value;
use std::path::PathBuf;

/// Images are named by their sha256 digest.
const IMAGE: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// Runs `criticloop` with the given API URL and token; no user config or environment leaks in.
async fn cli(url: &str, token: &str, args: &[&str]) -> anyhow::Result<Out> {
    criticloop_tests::cli::criticloop(url, token, args).await
}

async fn run(cluster: &Cluster, args: &[&str]) -> anyhow::Result<Out> {
    cli(&cluster.api_url, &cluster.token, args).await
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("criticloop-cli-{}-{}-{name}", std::process::id(), uuid::Uuid::new_v4()))
}

fn write(name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let p = temp(name);
    std::fs::write(&p, text)?;
    Ok(p)
}

fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap_or_default()
}

fn campaign_toml(dataset: &str, k: u32) -> String {
    format!(
        "name = \"cli test\"\ndataset_id = \"{dataset}\"\nrounds = 1\nsamples_per_prompt = {k}\n\n\
         [policy]\ncheckpoint = \"fake://p\"\n\n[critic]\ncheckpoint = \"fake://c\"\n"
    )
}

/// Each line of `path` as JSON with exactly `keys`.
fn check_jsonl(path: &std::path::Path, keys: &[&str]) -> anyhow::Result<usize> {
    let text = std::fs::read_to_string(path)?;
    let mut n = 0;
    for line in text.lines() {
        let v: Value = serde_json::from_str(line)?;
        let mut got: Vec<&str> = v.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
        got.sort_unstable();
        let mut want = keys.to_vec();
        want.sort_unstable();
        assert_eq!(got, want, "{line}");
        n += 1;
    }
    Ok(n)
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_creates_watches_and_exports_a_campaign() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("cli_e2e")).await?;
    let jsonl = write(
        "prompts.jsonl",
        &format!(
            "{{\"question\": \"what is red?\"}}\n{{\"question\": \"count the dots\", \"image\": \"{IMAGE}\"}}\n\n\
         {{\"question\": \"q3\", \"reference_answer\": \"a3\"}}\n",
        ),
    )?;
    let out = run(&cluster, &["dataset", "create", "-f", s(&jsonl), "--name", "cli prompts"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let dataset = out.stdout.trim().to_string();
    assert_eq!(dataset.len(), 36, "{}", out.stdout);

    let spec = write("campaign.toml", &campaign_toml(&dataset, 3))?;
    let out = run(&cluster, &["campaign", "create", "-f", s(&spec)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let id = out.stdout.trim().to_string();

    let out = run(&cluster, &["campaign", "watch", &id, "--interval", "0.2"]).await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("judging"), "{}", out.stdout);
    let view: Value = cluster.get(&format!("/v1/campaigns/{id}")).await?.json().await?;
    assert_eq!(view["state"], "completed", "{view}");

    println!("watch:\n{}", out.stdout);
    let out = run(&cluster, &["campaign", "status", &id]).await?;
    println!("status:\n{}", out.stdout);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("completed"), "{}", out.stdout);
    let out = run(&cluster, &["campaign", "list"]).await?;
    assert!(out.code == 0 && out.stdout.contains(&id), "{}{}", out.stdout, out.stderr);

    let api_pairs = cluster.get(&format!("/v1/campaigns/{id}/rounds/1/pairs")).await?.text().await?;
    let expected = api_pairs.lines().filter(|l| !l.trim().is_empty()).count();
    assert!(expected > 0, "no pairs");
    let llava = temp("llava.jsonl");
    let out = run(&cluster, &["pairs", "export", &id, "--round", "1", "--format", "llava", "-o", s(&llava)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(check_jsonl(&llava, &["id", "image", "prompt", "chosen", "rejected"])?, expected);
    let trl = temp("trl.jsonl");
    let out = run(&cluster, &["pairs", "export", &id, "--round", "1", "--format", "trl", "-o", s(&trl)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(check_jsonl(&trl, &["prompt", "chosen", "rejected", "images"])?, expected);
    // both layouts point at the prompt's stored image, by the reference the dataset export gives it
    let dataset_rows = cluster.get(&format!("/v1/datasets/{dataset}/export")).await?.text().await?;
    let dataset_image = dataset_rows
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|r| r["question"] == "count the dots")
        .map(|r| r["image"].clone())
        .expect("the prompt with an image is exported");
    assert_eq!(dataset_image, Value::from(format!("sha256:{IMAGE}")));
    let mut with_image = 0;
    for (llava_line, trl_line) in std::fs::read_to_string(&llava)?.lines().zip(std::fs::read_to_string(&trl)?.lines()) {
        let (l, t): (Value, Value) = (serde_json::from_str(llava_line)?, serde_json::from_str(trl_line)?);
        assert!(t["images"].is_array(), "{trl_line}");
        if l["prompt"] == "count the dots" {
            assert_eq!(l["image"], dataset_image, "{llava_line}");
            assert_eq!(t["images"], serde_json::json!([dataset_image]), "{trl_line}");
            with_image += 1;
        } else {
            assert!(l["image"].is_null() && t["images"] == serde_json::json!([]), "{llava_line} {trl_line}");
        }
    }
    assert_eq!(with_image, 1, "the pair of the prompt with an image is exported");

    // a finished campaign cannot be paused: the API's conflict message comes through
    let out = run(&cluster, &["campaign", "pause", &id]).await?;
    assert!(out.code != 0 && out.stderr.contains("cannot pause"), "{}", out.stderr);

    for p in [jsonl, spec, llava, trl] {
        let _ = std::fs::remove_file(p);
    }
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_reports_bad_files_clearly() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("cli_files")).await?;
    let bad = write("bad.jsonl", "{\"question\": \"fine\"}\n{\"question\": \"broken\"\n{\"question\": \"x\"}\n")?;
    let out = run(&cluster, &["dataset", "create", "-f", s(&bad), "--name", "bad"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.starts_with("error: ") && out.stderr.contains("line 2"), "{}", out.stderr);
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);

    let good = write("good.jsonl", "{\"question\": \"q1\"}\n{\"question\": \"q2\"}\n")?;
    let out = run(&cluster, &["dataset", "create", "-f", s(&good), "--name", "good"]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let good_id = out.stdout.trim().to_string();
    let spec = write("k1.toml", &campaign_toml(&good_id, 1))?;
    let out = run(&cluster, &["campaign", "create", "-f", s(&spec)]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("samples_per_prompt"), "{}", out.stderr);

    // the same spec as YAML is accepted (and validated by the API the same way)
    let yaml = write(
        "k2.yaml",
        &format!(
            "name: cli yaml\ndataset_id: {}\nrounds: 1\nsamples_per_prompt: 2\npolicy: {{checkpoint: fake://p}}\ncritic: {{checkpoint: fake://c}}\n",
            good_id
        ),
    )?;
    let out = run(&cluster, &["campaign", "create", "-f", s(&yaml)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(uuid::Uuid::parse_str(out.stdout.trim()).is_ok(), "{}", out.stdout);
    let broken = write("broken.yaml", "name: [unclosed\n")?;
    let out = run(&cluster, &["campaign", "create", "-f", s(&broken)]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("is not valid YAML"), "{}", out.stderr);

    let missing = temp("missing.toml");
    let out = run(&cluster, &["campaign", "create", "-f", s(&missing)]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains(s(&missing)), "{}", out.stderr);

    for p in [bad, good, spec, yaml, broken] {
        let _ = std::fs::remove_file(p);
    }
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_reports_unreachable_api_and_wrong_token() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("cli_conn")).await?;
    let out = cli("http://127.0.0.1:1", &cluster.token, &["campaign", "list"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("cannot reach the criticloop API at http://127.0.0.1:1"), "{}", out.stderr);

    let out = cli(&cluster.api_url, "wrong-token", &["campaign", "list"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("the bearer token is not valid"), "{}", out.stderr);
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_submits_follows_and_reads_a_judge_job() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("cli_judge")).await?;
    let items: String = (0..40)
        .map(|i| {
            format!(
                "{{\"id\": \"it{i}\", \"question\": \"q{i}\", \"responses\": [\"a{i}\", \"b{i}\"], \"label\": \"{}\"}}\n",
                if i % 2 == 0 { "first" } else { "second" }
            )
        })
        .collect();
    let file = write("items.jsonl", &items)?;
    let args = ["judge", "submit", s(&file), "--critic", "fake://c", "--priority", "6", "--name", "cli", "--watch"];
    let out = run(&cluster, &args).await?;
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("40 items, priority 6"), "{}", out.stdout);
    assert!(out.stdout.contains("40/40 items"), "{}", out.stdout);
    let id = out.stdout.split_whitespace().nth(2).unwrap_or_default().trim_end_matches(':').to_string();
    assert!(out.stdout.trim_end().ends_with(&format!("judge job {id}: completed")), "{}", out.stdout);

    let results = temp("results.jsonl");
    let out = run(&cluster, &["judge", "results", &id, "-o", s(&results)]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = std::fs::read_to_string(&results)?;
    let ids: Vec<String> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).map(|v| v["id"].to_string()))
        .collect::<Result<_, _>>()?;
    assert_eq!(ids, (0..40).map(|i| format!("\"it{i}\"")).collect::<Vec<_>>());

    let out = run(&cluster, &["judge", "metrics", &id]).await?;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let metrics: Value = serde_json::from_str(&out.stdout)?;
    assert_eq!(metrics["pairwise"]["items"], 40, "{metrics}");
    let out = run(&cluster, &["judge", "list"]).await?;
    assert!(out.code == 0 && out.stdout.contains(&id) && out.stdout.contains("40/40"), "{}", out.stdout);

    // a bad file: every bad line is named, nothing is submitted
    let bad =
        write("bad-items.jsonl", "{\"question\": \"q\", \"responses\": [\"a\"]}\n{\"question\": \"q\"}\nnot json\n")?;
    let out = run(&cluster, &["judge", "submit", s(&bad), "--critic", "fake://c"]).await?;
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("line 2: ") && out.stderr.contains("line 3: "), "{}", out.stderr);
    let out = run(&cluster, &["judge", "list"]).await?;
    assert_eq!(out.stdout.lines().count(), 2, "{}", out.stdout);
    let out = run(&cluster, &["judge", "submit", s(&temp("absent.jsonl")), "--critic", "c"]).await?;
    assert!(out.code != 0 && out.stderr.contains("cannot read"), "{}", out.stderr);

    for p in [file, results, bad] {
        let _ = std::fs::remove_file(p);
    }
    cluster.teardown().await
}
