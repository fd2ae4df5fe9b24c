//! `dpo_service_*`: the training service on the tch backend, end to end through the real binaries,
//! RabbitMQ and Postgres. Generation and judging run the fake backend (it writes the texts and picks the
//! pairs); training runs real DPO on the model crate's tiny random Qwen2 checkpoint.

use artifacts::{ArtifactStore, Kind, StoreConfig};
use backend::TrainPair;
use criticloop_tests::{Cluster, ClusterOptions, Service, campaign, checkpoints, fixtures, tch};
use model::tch::{Kind as TensorKind, Tensor};
use model::{LoadOptions, TextModel};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use train::logps::PairBatch;
use train::{CheckpointText, PolicyModel, TokenizedPair};

const BETA: f64 = 0.1;

/// A cluster whose training service runs DPO on tch (CPU, batch 2, constant learning rate), with `extra`
/// backend keys; and the training service's work dir.
fn tch_training(name: &str, extra: &[(&str, &str)]) -> (ClusterOptions, std::path::PathBuf) {
    let keys = [
        ("BATCH_SIZE", "2"),
        ("GRADIENT_ACCUMULATION_STEPS", "1"),
        ("LR_SCHEDULER", "constant"),
        ("WARMUP_RATIO", "0"),
    ];
    let keys: Vec<(&str, &str)> = keys.iter().chain(extra).copied().collect();
    let (options, root) = tch::options(name, &[Service::Training], &keys);
    (options, root.join(Service::Training.name()))
}

#[tokio::test(flavor = "multi_thread")]
async fn dpo_service_trains_a_round_on_tch_and_stores_a_loadable_better_checkpoint() -> anyhow::Result<()> {
    let base_dir = fixtures::qwen2_fixtures()?.join("qwen2");
    let (options, _) = tch_training("dpo_service", &[]);
    let cluster = Cluster::start(options).await?;

    // the base checkpoint, as a directory artifact in the cluster's store
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let (base, _) = store.put_dir(Kind::Checkpoint, &base_dir).await?;
    let base_uri = format!("sha256:{}", base.digest);

    // six prompts; the last is far longer than the checkpoint's context of 256 tokens
    let long = "Describe every object in the picture, one by one, with its colour. ".repeat(30);
    let questions: Vec<String> =
        (0..6).map(|i| if i == 5 { long.clone() } else { format!("What colour is shape {i}?") }).collect();
    let dataset = campaign::dataset(&cluster, questions.len(), |i| questions[i].clone()).await?;
    // five samples a prompt: the fake critic ranks by a hash of each sample, and the samples' seeds come from
    // the prompts' new ids, so with three samples a prompt (the long one included) had no pair when all
    // three hashed to the same quality, 1 run in 100 (it failed a CI run); with five, 1 in 10,000
    let spec = campaign::spec(
        &dataset,
        1,
        5,
        json!({
            "policy": {"checkpoint": base_uri},
            "training": {"beta": BETA, "learning_rate": 1e-3, "epochs": 3},
        }),
    );
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(300)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = &view["rounds"][0];
    assert_eq!(round["state"], "completed", "{round:#}");

    // the new checkpoint: parent = the base, TRL's metrics, the long pair reported and skipped
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
        "history",
    ] {
        assert!(metrics.get(key).is_some(), "metric `{key}` missing: {metrics:#}");
    }
    assert_eq!(metrics["backend"], "tch");
    let long_id: uuid::Uuid =
        sqlx::query_scalar("select id from prompts where question = $1").bind(&long).fetch_one(&pool).await?;
    pool.close().await;
    let bad = metrics["bad_pairs"].as_array().expect("bad_pairs");
    assert_eq!(bad.len(), 1, "{bad:#?}");
    assert_eq!(bad[0]["id"], long_id.to_string());
    let reason = bad[0]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("longer than the context of 256"), "{reason}");
    let round_pairs = round["counts"]["pairs"].as_u64().expect("pair count");
    assert!(round_pairs >= 4, "the fake critic should rank most prompts: {round_pairs}");
    assert_eq!(metrics["pairs"].as_u64(), Some(round_pairs - 1));
    // 5 usable pairs at batch 2: 3 steps per epoch, 3 epochs
    assert_eq!(metrics["steps"].as_u64(), Some(3 * (round_pairs - 1).div_ceil(2)));

    // it is a `sha256:` directory artifact that criticloop's runtime loads
    let digest = artifacts::Digest::parse(&uri).map_err(|e| anyhow::anyhow!("checkpoint uri `{uri}`: {e}"))?;
    assert!(uri.starts_with("sha256:"), "{uri}");
    let download = checkpoints::tempdir("dpo-service")?;
    let trained_dir = download.join("trained");
    store.download_dir(Kind::Checkpoint, &digest, &trained_dir).await?;
    let trained = TextModel::load(&trained_dir, &LoadOptions::default())?;
    assert!(trained.chat_template.is_some(), "the chat template travels with the checkpoint");
    drop(trained);

    // its weights differ from the base, and DPO did its job: on the trained pairs the implicit reward
    // margin beta * ((log pi - log ref)(chosen) - (log pi - log ref)(rejected)) is positive
    let pairs = exported_pairs(&cluster, &id).await?;
    let (changed, margin, accuracy) = compare(&base_dir, &trained_dir, &pairs)?;
    assert!(changed > 1e-4, "weights barely moved: max |delta| {changed}");
    assert!(margin > 0.0, "implicit reward margin after training: {margin}");
    assert!(accuracy >= 0.6, "reward accuracy after training: {accuracy}");
    eprintln!(
        "dpo_service: {round_pairs} pairs, train_loss {}, final-step margin {}, after training: margin {margin:.4}, \
         accuracy {accuracy:.2}, max |delta w| {changed:.2e}, training {:.1}s",
        metrics["train_loss"], metrics["rewards/margins"], metrics["seconds"]
    );
    let _ = std::fs::remove_dir_all(&download);
    cluster.teardown().await
}

/// A training service killed mid-run resumes from its last mid-run checkpoint: the round completes with
/// every step logged once, the steps before the checkpoint not trained again, and the run folder gone.
#[tokio::test(flavor = "multi_thread")]
async fn dpo_service_killed_mid_run_resumes_from_its_last_checkpoint() -> anyhow::Result<()> {
    let base_dir = fixtures::qwen2_fixtures()?.join("qwen2");
    let (options, work_dir) = tch_training("dpo_resume_service", &[("SAVE_STEPS", "2")]);
    let options = options.env("CRITICLOOP_LEASE__TTL_MS", 2000).env("CRITICLOOP_LEASE__HEARTBEAT_MS", 300);
    let mut cluster = Cluster::start(options).await?;
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let (base, _) = store.put_dir(Kind::Checkpoint, &base_dir).await?;
    let questions: Vec<String> = (0..6).map(|i| format!("Which shape is number {i}?")).collect();
    let dataset = campaign::dataset(&cluster, questions.len(), |i| questions[i].clone()).await?;
    let epochs: u32 = 12;
    let spec = campaign::spec(
        &dataset,
        1,
        3,
        json!({
            "policy": {"checkpoint": format!("sha256:{}", base.digest)},
            "training": {"beta": BETA, "learning_rate": 1e-3, "epochs": epochs},
        }),
    );
    let id = campaign::create(&cluster, &spec).await?;

    // kill the training service as soon as a mid-run checkpoint exists
    let runs = work_dir.join("runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    let checkpoint = loop {
        let found = std::fs::read_dir(&runs).into_iter().flatten().flatten().find_map(|run| {
            let ckpts = run.path().join("checkpoints");
            std::fs::read_dir(ckpts)
                .into_iter()
                .flatten()
                .flatten()
                .map(|c| c.path())
                .find(|c| c.join("trainer_state.json").is_file())
        });
        if let Some(c) = found {
            break c;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no mid-run checkpoint appeared under {}",
            runs.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    cluster.kill(Service::Training).await;
    let killed_at: u64 = checkpoint
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix("checkpoint-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    eprintln!("dpo_resume_service: killed the training service with {} on disk", checkpoint.display());
    cluster.start_service(Service::Training)?;

    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(300)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = &view["rounds"][0];
    let pool = cluster.pool().await?;
    let (_, _, metrics) = checkpoints::of_round(&pool, round).await?;
    pool.close().await;
    let pairs = metrics["pairs"].as_u64().expect("pairs");
    let total = u64::from(epochs) * pairs.div_ceil(2);
    assert_eq!(metrics["steps"].as_u64(), Some(total), "{metrics:#}");
    let resumed = metrics["resumed_from_step"].as_u64().expect("resumed_from_step");
    assert!(resumed >= killed_at && resumed >= 2 && resumed < total, "resumed from {resumed} (killed at {killed_at})");
    let logged: Vec<u64> =
        metrics["history"].as_array().expect("history").iter().filter_map(|s| s["step"].as_u64()).collect();
    assert_eq!(logged, (1..=total).collect::<Vec<_>>(), "every step logged once, in order");
    assert_eq!(cluster.starts(Service::Training), 2);
    let left: Vec<_> = std::fs::read_dir(&runs).into_iter().flatten().flatten().map(|e| e.file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().starts_with("resumable-")), "run folders left: {left:?}");
    cluster.teardown().await
}

/// The round's pairs as the API exports them.
async fn exported_pairs(cluster: &Cluster, campaign: &str) -> anyhow::Result<Vec<TrainPair>> {
    let body = cluster.get(&format!("/v1/campaigns/{campaign}/rounds/1/pairs")).await?.text().await?;
    body.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line)?;
            let text = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            Ok(TrainPair {
                id: text("id"),
                prompt: text("prompt"),
                image: None,
                chosen: text("chosen"),
                rejected: text("rejected"),
            })
        })
        .collect()
}

/// The largest weight change, and the mean implicit reward margin and accuracy of the usable pairs,
/// tokenised exactly as the trainer did.
fn compare(base: &Path, trained: &Path, pairs: &[TrainPair]) -> anyhow::Result<(f64, f64, f64)> {
    let text = CheckpointText::from_dir(base)?;
    let no_images = |r: &str| Err(format!("no image expected, got {r}"));
    let set = backend_tch::pairs::tokenize(pairs, &text, 256, &no_images);
    anyhow::ensure!(!set.pairs.is_empty(), "no usable pair: {:?}", set.bad);
    let opts = LoadOptions::default();
    let reference = PolicyModel::load(base, &opts)?;
    let policy = PolicyModel::load(trained, &opts)?;
    let changed = checkpoints::max_weight_change(reference.language_model(), policy.language_model())?;
    let refs: Vec<&TokenizedPair> = set.pairs.iter().collect();
    let pad = u32::try_from(reference.language_model().config().pad_token_id.unwrap_or(0).max(0))?;
    let batch = PairBatch::new(&refs, pad, &policy)?;
    let pi = batch.logps(&policy, false)?;
    let re = batch.logps(&reference, false)?;
    let margins: Tensor = ((&pi.chosen - &re.chosen) - (&pi.rejected - &re.rejected)) * BETA;
    let margins: Vec<f32> = Vec::try_from(&margins.to_kind(TensorKind::Float))?;
    let n = margins.len() as f64;
    let mean = margins.iter().map(|&m| f64::from(m)).sum::<f64>() / n;
    let accuracy = margins.iter().filter(|&&m| m > 0.0).count() as f64 / n;
    Ok((changed, mean, accuracy))
}
