//! `backend_tch_evaluation_*`: a round whose policy is a LLaVA-OneVision trains on its image pairs and is
//! evaluated on tch, end to end through the real services: generation and judging run the fake backend
//! (they write the responses and rank them), training runs DPO with the prompts' images on the tiny random
//! LLaVA-OneVision, and evaluation has the trained checkpoint answer a held-out generated world greedily and
//! scores the answers against the world's ground truth.

use artifacts::{ArtifactStore, Kind, StoreConfig};
use criticloop_tests::{Cluster, Service, campaign, checkpoints, fixtures, tch};
use model::llava::preprocess::decode_image;
use model::{GenerateConfig, LoadOptions, Sampling, VisionModel, VisionPrompt};
use serde_json::{Value, json};
use std::time::Duration;
use world::{Item, World, WorldConfig, exact_match, score_description, summarise};

/// One tile of the fixture's vision tower (32 px): an image takes 37 tokens, and a prompt with a fake
/// response fits the tiny model's context of 256.
fn world_config() -> WorldConfig {
    WorldConfig { image_size: 32, max_objects: 3, ..WorldConfig::default() }
}

fn suite<'a>(evaluations: &'a Value, name: &str) -> &'a Value {
    let all = evaluations.as_array().map(Vec::as_slice).unwrap_or_default();
    all.iter().find(|e| e["suite"] == name).map(|e| &e["metrics"]).unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread")]
async fn backend_tch_evaluation_trains_a_llava_policy_on_images_and_scores_it_on_a_held_out_world() -> anyhow::Result<()>
{
    let base_dir = fixtures::llava_fixtures()?.join("llava-ov");
    let keys = [("BATCH_SIZE", "2"), ("GRADIENT_ACCUMULATION_STEPS", "1"), ("CRITIC_MAX_NEW_TOKENS", "16")];
    let (options, _) = tch::options("tch_evaluation", &[Service::Training, Service::Evaluation], &keys);
    let cluster = Cluster::start(options).await?;
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let (base, _) = store.put_dir(Kind::Checkpoint, &base_dir).await?;

    let config = world_config();
    let train_items = World::items(11, 6, &config)?;
    let held_out = World::items(12, 8, &config)?;
    let train = campaign::import_world(&cluster, "world-train", &train_items).await?;
    let eval = campaign::import_world(&cluster, "world-eval", &held_out).await?;
    let max_new_tokens = 12;
    let spec = campaign::spec(
        &train,
        1,
        3,
        json!({
            "policy": {"checkpoint": format!("sha256:{}", base.digest)},
            // the evaluation's critic-judged suites run the tiny LLaVA as the critic (the judging service is
            // the fake one, which ignores the checkpoint)
            "critic": {"checkpoint": format!("sha256:{}", base.digest)},
            "training": {"beta": 0.1, "learning_rate": 1e-3, "epochs": 1},
            "evaluation": {"dataset_id": eval, "max_new_tokens": max_new_tokens},
        }),
    );
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(300)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let round = &view["rounds"][0];

    // training: the pairs carried their images (none skipped), and the new checkpoint is a LLaVA-OneVision
    let pool = cluster.pool().await?;
    let (parent, uri, metrics) = checkpoints::of_round(&pool, round).await?;
    pool.close().await;
    assert_eq!(parent.map(|p| p.to_string()).as_deref(), round["base_checkpoint_id"].as_str());
    assert_eq!(metrics["bad_pairs"].as_array().map(Vec::len), Some(0), "{metrics:#}");
    let pairs = metrics["pairs"].as_u64().unwrap_or(0);
    assert!(pairs >= 4, "the fake critic ranks most prompts: {metrics:#}");
    let digest = artifacts::Digest::parse(&uri).map_err(|e| anyhow::anyhow!("{uri}: {e}"))?;
    let download = checkpoints::tempdir("tch-evaluation")?;
    let trained_dir = download.join("trained");
    store.download_dir(Kind::Checkpoint, &digest, &trained_dir).await?;
    let trained = VisionModel::load(&trained_dir, &LoadOptions::default())?;
    let base_model = model::LlavaOnevision::load(&base_dir, &LoadOptions::default())?;
    let changed = checkpoints::max_weight_change(base_model.language_model(), trained.model.language_model())?;
    assert!(changed > 1e-5, "the language model did not move: {changed}");

    // evaluation: the same greedy answers, recomputed here with the trained model, give the stored scores
    let answers = greedy_answers(&trained, &held_out, max_new_tokens)?;
    let evaluations = &round["evaluations"];
    let short = suite(evaluations, "world/short");
    let describe = suite(evaluations, "world/describe");
    let (mut n_short, mut right, mut scores) = (0u64, 0u64, Vec::new());
    for (item, answer) in held_out.iter().zip(&answers) {
        match item.answer() {
            Some(expected) => {
                n_short += 1;
                right += u64::from(exact_match(answer, expected));
            }
            None => scores.push(score_description(answer, item.objects())),
        }
    }
    assert!(n_short > 0 && !scores.is_empty(), "the held-out world mixes both families");
    assert_eq!(short["items"].as_u64(), Some(n_short), "{evaluations:#}");
    assert_eq!(short["failed"].as_u64(), Some(0), "{evaluations:#}");
    assert_eq!(short["exact_match"].as_f64(), Some(right as f64 / n_short as f64), "{evaluations:#}");
    let summary = summarise(&scores);
    assert_eq!(describe["items"].as_u64(), Some(scores.len() as u64), "{evaluations:#}");
    for (key, want) in [
        ("precision", summary.precision),
        ("recall", summary.recall),
        ("f1", summary.f1),
        ("mean_f1", summary.mean_f1),
        ("hallucination_rate", summary.hallucination_rate),
    ] {
        assert_eq!(describe[key].as_f64(), Some(want), "{key}: {evaluations:#}");
    }
    // the critic-judged suites: every row's answer and reference scored, and compared with round 0's answer
    // both ways (a random critic's verdicts mostly do not parse; each judgment is counted once)
    let n = held_out.len() as u64;
    let relative = suite(evaluations, "critic/relative");
    assert_eq!(relative["judgments"].as_u64(), Some(2 * n), "{evaluations:#}");
    assert_eq!(relative["failed"].as_u64(), Some(0), "{evaluations:#}");
    let versus = suite(evaluations, "critic/vs_round0");
    assert_eq!(versus["judgments"].as_u64(), Some(2 * n), "{evaluations:#}");
    assert_eq!(versus["failed"].as_u64(), Some(0), "{evaluations:#}");
    let counted: u64 = ["wins", "losses", "ties", "unparsed"].iter().filter_map(|k| versus[*k].as_u64()).sum();
    assert_eq!(counted, 2 * n, "{evaluations:#}");
    // the stored examples are the answers themselves (a NUL a random model decodes is stored as U+FFFD:
    // jsonb cannot hold it)
    let stored: Vec<&str> =
        short["examples"].as_array().into_iter().flatten().filter_map(|e| e["answer"].as_str()).collect();
    let as_stored: Vec<String> = answers.iter().map(|b| b.replace('\0', "\u{fffd}")).collect();
    assert!(!stored.is_empty() && stored.iter().all(|a| as_stored.iter().any(|b| b == a)), "{stored:?} vs {answers:?}");
    eprintln!(
        "backend_tch_evaluation: {pairs} pairs trained; held out: {n_short} short (exact match {right}), {} descriptions \
         (F1 {:.3}); answers {answers:?}",
        scores.len(),
        summary.f1
    );

    // round 0: the first round also evaluated the checkpoint it started from; its scores are the base
    // model's greedy answers'
    let base_answers =
        greedy_answers(&VisionModel::load(&base_dir, &LoadOptions::default())?, &held_out, max_new_tokens)?;
    let base_right = held_out
        .iter()
        .zip(&base_answers)
        .filter_map(|(item, answer)| item.answer().map(|expected| u64::from(exact_match(answer, expected))))
        .sum::<u64>();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let base_evaluations = loop {
        let view = campaign::get(&cluster, &id).await?;
        let evaluations = view["rounds"][0]["base_evaluations"].clone();
        if evaluations.as_array().is_some_and(|a| !a.is_empty()) || std::time::Instant::now() > deadline {
            break evaluations;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let base_short = suite(&base_evaluations, "world/short");
    assert_eq!(base_short["items"].as_u64(), Some(n_short), "{base_evaluations:#}");
    assert_eq!(base_short["exact_match"].as_f64(), Some(base_right as f64 / n_short as f64), "{base_evaluations:#}");
    assert_eq!(suite(&base_evaluations, "critic/relative")["judgments"].as_u64(), Some(2 * n), "{base_evaluations:#}");
    let _ = std::fs::remove_dir_all(&download);
    cluster.teardown().await
}

/// The model's greedy answers to the held-out rows, as the evaluator asks them.
fn greedy_answers(model: &VisionModel, held_out: &[Item], max_new_tokens: usize) -> anyhow::Result<Vec<String>> {
    let prompts: Vec<String> = held_out
        .iter()
        .map(|item| {
            let content = json!([{"type": "image"}, {"type": "text", "text": item.question}]);
            model.prompt_text(&[json!({"role": "user", "content": content})], "")
        })
        .collect::<model::Result<_>>()?;
    let images: Vec<Vec<model::tch::Tensor>> = held_out
        .iter()
        .map(|item| Ok(vec![decode_image(&world::png_bytes(&world::render(item.scene()))?)?]))
        .collect::<anyhow::Result<_>>()?;
    let vision: Vec<VisionPrompt<'_>> = prompts.iter().zip(&images).map(|(p, i)| VisionPrompt::new(p, i)).collect();
    let cfg = GenerateConfig {
        max_new_tokens,
        sampling: Sampling::Greedy,
        stop_token_ids: model.stop_token_ids(),
        samples_per_prompt: 1,
        seed: 0,
        prompt_seeds: None,
    };
    Ok(model.generate_text(&vision, &cfg)?.into_iter().map(|mut s| s.remove(0).0).collect())
}
