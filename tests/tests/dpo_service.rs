//! `dpo_service_*`: the training service on the tch backend, end to end through the real binaries,
//! RabbitMQ and Postgres. Generation and judging run the fake backend (it writes the texts and picks the
//! pairs); training runs real DPO on the model crate's tiny random Qwen2 checkpoint.

use artifacts::{ArtifactStore, Kind, StoreConfig};
use backend::TrainPair;
use criticloop_tests::{Cluster, ClusterOptions, Service, campaign, checkpoints, fixtures};
use model::tch::{Kind as TensorKind, Tensor};
use model::{ChatTemplate, LoadOptions, Qwen2ForCausalLM, TextModel, TextTokenizer};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;
use train::TokenizedPair;
use train::logps::PairBatch;

const BETA: f64 = 0.1;

#[tokio::test(flavor = "multi_thread")]
async fn dpo_service_trains_a_round_on_tch_and_stores_a_loadable_better_checkpoint() -> anyhow::Result<()> {
    let base_dir = fixtures::qwen2_fixtures()?.join("qwen2");
    let options = ClusterOptions::new("dpo_service");
    let work_dir = options.log_dir.join(&options.name).join("tch");
    let training = |o: ClusterOptions, key: &str, value: &str| {
        o.service_env(Service::Training, &format!("CRITICLOOP_BACKEND__{key}"), value)
    };
    let mut options = training(options, "KIND", "tch");
    for (key, value) in [
        ("DEVICE", "cpu"),
        ("WORK_DIR", &work_dir.display().to_string()),
        ("BATCH_SIZE", "2"),
        ("GRADIENT_ACCUMULATION_STEPS", "1"),
        ("LR_SCHEDULER", "constant"),
        ("WARMUP_RATIO", "0"),
    ] {
        options = training(options, key, value);
    }
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
    let spec = campaign::spec(
        &dataset,
        1,
        3,
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
    let tokenizer = TextTokenizer::from_dir(base)?;
    let template = ChatTemplate::from_dir(base)?;
    let set = backend_tch::pairs::tokenize(pairs, &tokenizer, Some(&template), 256);
    anyhow::ensure!(!set.pairs.is_empty(), "no usable pair: {:?}", set.bad);
    let opts = LoadOptions::default();
    let reference = Qwen2ForCausalLM::load(base, &opts)?;
    let policy = Qwen2ForCausalLM::load(trained, &opts)?;
    let changed = checkpoints::max_weight_change(&reference, &policy)?;
    let refs: Vec<&TokenizedPair> = set.pairs.iter().collect();
    let pad = u32::try_from(reference.config().pad_token_id.unwrap_or(0).max(0))?;
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
