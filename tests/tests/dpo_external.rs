//! `dpo_external_*`: the training service on the external backend, end to end through the real binaries,
//! RabbitMQ and Postgres. Generation and judging run the fake backend (it writes the texts and picks the
//! pairs); training runs the repository's TRL launcher (`scripts/trainers/trl_dpo.py`, real `DPOTrainer`
//! on the CPU) with the project's Python on the model crate's tiny random Qwen2 checkpoint.

use anyhow::Context;
use artifacts::{ArtifactStore, Kind, StoreConfig};
use criticloop_tests::{Cluster, ClusterOptions, Service, campaign, checkpoints, fixtures};
use model::{LoadOptions, Qwen2ForCausalLM, TextModel};
use serde_json::json;
use std::time::Duration;

const LAUNCHER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/trainers/trl_dpo.py");

fn training(options: ClusterOptions, key: &str, value: &str) -> ClusterOptions {
    options.service_env(Service::Training, key, value)
}

#[tokio::test(flavor = "multi_thread")]
async fn dpo_external_trains_a_round_with_trl_and_fails_a_round_with_the_commands_stderr() -> anyhow::Result<()> {
    let python = std::env::var("CRITICLOOP_PYTHON")
        .context("CRITICLOOP_PYTHON is not set: the external trainer runs TRL with the project's Python")?;
    let base_dir = fixtures::qwen2_fixtures()?.join("qwen2");
    let options = ClusterOptions::new("dpo_external");
    let work_dir = options.log_dir.join(&options.name).join("external");
    let command = format!(
        "'{python}' '{LAUNCHER}' --pairs {{pairs}} --base {{base}} --output {{output}} --work {{work}} \
         --beta {{beta}} --learning-rate {{learning_rate}} --epochs {{epochs}} --seed {{seed}} --batch-size 2 \
         --gradient-accumulation-steps 1 --lr-scheduler constant --warmup-ratio 0 --threads 1"
    );
    let mut options = training(options, "CRITICLOOP_BACKEND__KIND", "external");
    for (key, value) in [
        ("CRITICLOOP_BACKEND__COMMAND", command.as_str()),
        ("CRITICLOOP_BACKEND__WORK_DIR", &work_dir.display().to_string()),
        ("CRITICLOOP_BACKEND__TIMEOUT_SECS", "300"),
        ("HF_HUB_OFFLINE", "1"),
        ("HF_DATASETS_OFFLINE", "1"),
        ("TRANSFORMERS_VERBOSITY", "error"),
    ] {
        options = training(options, key, value);
    }
    let mut cluster = Cluster::start(options).await?;

    // the base checkpoint, as a directory artifact in the cluster's store
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let (base, _) = store.put_dir(Kind::Checkpoint, &base_dir).await?;
    let base_uri = format!("sha256:{}", base.digest);
    let dataset = campaign::dataset(&cluster, 5, |i| format!("What colour is shape {i}?")).await?;
    let training_spec = json!({"beta": 0.1, "learning_rate": 1e-3, "epochs": 2});
    let spec = campaign::spec(
        &dataset,
        1,
        3,
        json!({"policy": {"checkpoint": base_uri}, "training": training_spec, "seed": 11}),
    );
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(180)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = &view["rounds"][0];
    assert_eq!(round["state"], "completed", "{round:#}");

    // the checkpoint row: parent = the base, TRL's metrics as the launcher wrote them, the run's own
    let pool = cluster.pool().await?;
    let (parent, uri, metrics) = checkpoints::of_round(&pool, round).await?;
    assert_eq!(parent.map(|p| p.to_string()).as_deref(), round["base_checkpoint_id"].as_str());
    for key in [
        "loss",
        "rewards/chosen",
        "rewards/rejected",
        "rewards/margins",
        "rewards/accuracies",
        "logps/chosen",
        "logps/rejected",
        "train_loss",
    ] {
        assert!(metrics[key].is_f64(), "TRL metric `{key}` missing: {metrics:#}");
    }
    let round_pairs = round["counts"]["pairs"].as_u64().context("pair count")?;
    assert!(round_pairs >= 3, "the fake critic should rank most prompts: {round_pairs}");
    assert_eq!(metrics["pairs"].as_u64(), Some(round_pairs), "{metrics:#}");
    assert_eq!(metrics["pairs_sent"].as_u64(), Some(round_pairs));
    // 2 epochs at batch 2, one micro-batch per step
    assert_eq!(metrics["steps"].as_u64(), Some(2 * round_pairs.div_ceil(2)), "{metrics:#}");
    assert_eq!(
        metrics["history"].as_array().map(Vec::len),
        metrics["steps"].as_u64().and_then(|s| usize::try_from(s).ok())
    );
    assert_eq!((metrics["backend"].as_str(), metrics["exit_status"].as_i64()), (Some("external"), Some(0)));
    assert_eq!(metrics["command"], python.as_str());
    assert_eq!(metrics["trainer"], "trl");
    assert!(metrics["versions"]["trl"].is_string() && metrics["seconds"].as_f64().is_some_and(|s| s > 0.0));
    // the round's settings reached TRL through the placeholders
    let config = &metrics["config"];
    assert_eq!((config["beta"].as_f64(), config["learning_rate"].as_f64()), (Some(0.1), Some(1e-3)), "{config:#}");
    assert_eq!((config["num_train_epochs"].as_f64(), config["seed"].as_u64()), (Some(2.0), Some(11)));
    // TRL's reference is the base, so the first step's loss is ln 2 exactly; by the second epoch, on pairs
    // it has seen, the policy prefers the chosen responses. (The mean over both epochs, `train_loss`, is no
    // test: the first epoch's later steps meet unseen pairs and may rise well above ln 2.)
    let losses: Vec<f64> = metrics["history"]
        .as_array()
        .context("history")?
        .iter()
        .map(|h| h["loss"].as_f64().context("a step without `loss`"))
        .collect::<anyhow::Result<_>>()?;
    assert!((losses[0] - std::f64::consts::LN_2).abs() < 1e-5, "first step's loss {} is not ln 2", losses[0]);
    let per_epoch = usize::try_from(round_pairs.div_ceil(2))?;
    let mean = |l: &[f64]| l.iter().sum::<f64>() / l.len() as f64;
    let (first, second) = (mean(&losses[..per_epoch]), mean(&losses[per_epoch..]));
    assert!(second < std::f64::consts::LN_2 && second < first, "epoch means {first} then {second}: {losses:?}");

    // the registered checkpoint downloads, loads in criticloop's runtime and differs from the base
    let digest = artifacts::Digest::parse(&uri).map_err(|e| anyhow::anyhow!("checkpoint uri `{uri}`: {e}"))?;
    let download = checkpoints::tempdir("dpo-external")?;
    let trained_dir = download.join("trained");
    let manifest = store.download_dir(Kind::Checkpoint, &digest, &trained_dir).await?;
    let files: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert!(!files.contains(&"metrics.json") && !files.contains(&"training_args.bin"), "{files:?}");
    let trained = TextModel::load(&trained_dir, &LoadOptions::default())?;
    assert!(trained.chat_template.is_some(), "the chat template travels with the checkpoint");
    drop(trained);
    let opts = LoadOptions::default();
    let changed = checkpoints::max_weight_change(
        &Qwen2ForCausalLM::load(&base_dir, &opts)?,
        &Qwen2ForCausalLM::load(&trained_dir, &opts)?,
    )?;
    assert!(changed > 1e-4, "weights barely moved: max |delta| {changed}");

    // the command's output reached the task's span (the log prints the span path of each event)
    let log = std::fs::read_to_string(cluster.log_path(Service::Training))?;
    let streamed = log
        .lines()
        .find(|l| l.contains("[trl_dpo] step 1/") && l.contains("train.v1") && l.contains("external.train{"));
    assert!(streamed.is_some(), "no launcher line inside the task's span in the training log");
    eprintln!(
        "dpo_external: {round_pairs} pairs, {} steps, train_loss {}, final margin {}, command {:.1}s, max |delta w| {changed:.2e}",
        metrics["steps"], metrics["train_loss"], metrics["rewards/margins"], metrics["seconds"]
    );

    // a command that fails: the round fails at once (exit 3 is not retried) with its stderr tail; the
    // service's own configuration (database URL) was not passed on to it
    let failing = "echo \"training {pairs} from {base} into {output}\"; \
                   echo \"service config passed on: $(env | grep -c '^CRITICLOOP_DATABASE__')\" >&2; \
                   echo 'RuntimeError: the trainer exploded' >&2; exit 3";
    cluster.options = training(cluster.options.clone(), "CRITICLOOP_BACKEND__COMMAND", failing);
    cluster.options = training(cluster.options.clone(), "CRITICLOOP_BACKEND__SHELL", "true");
    cluster.restart(Service::Training).await?;
    cluster.wait_ready(Service::Training, Duration::from_secs(30)).await?;
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    let round = &view["rounds"][0];
    assert_eq!((view["state"].as_str(), round["state"].as_str()), (Some("failed"), Some("failed")), "{view:#}");
    assert!(round["result_checkpoint_id"].is_null());
    assert_eq!(view["current_checkpoint_id"], round["base_checkpoint_id"]);
    let reason = round["failure_reason"].as_str().unwrap_or_default();
    for part in ["failed 1 time(s)", "exit code 3", "RuntimeError: the trainer exploded", "service config passed on: 0"]
    {
        assert!(reason.contains(part), "`{part}` missing from the failure reason: {reason}");
    }
    pool.close().await;
    let _ = std::fs::remove_dir_all(&download);
    cluster.teardown().await
}
