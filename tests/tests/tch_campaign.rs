//! `backend_tch_campaign_*`: a campaign whose generation, judging and training all run the tch backend, through
//! the real binaries, RabbitMQ and Postgres: the tiny random Qwen2 as the policy and the tiny random
//! LLaVA-OneVision as the critic. The critic's text is random, so most verdicts are unparsed; the round
//! must still finish (completed, or failed with the reason recorded) without a service falling over.

use artifacts::{ArtifactStore, Kind, StoreConfig};
use criticloop_tests::{Cluster, Service, campaign, fixtures, tch};
use model::{GenerateConfig, LoadOptions, Sampling, TextModel, VisionModel, VisionPrompt};
use protocol::GenerateTask;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use uuid::Uuid;

const K: usize = 3;
const MAX_NEW: usize = 8;
const CRITIC_MAX_NEW: usize = 12;
const SEED: u64 = 5;
const TEMPERATURE: f64 = 0.8;
const TOP_P: f64 = 0.9;

#[tokio::test(flavor = "multi_thread")]
async fn backend_tch_campaign_samples_and_judges_with_real_models_and_survives_unparsed_verdicts() -> anyhow::Result<()>
{
    let policy_dir = fixtures::qwen2_fixtures()?.join("qwen2");
    let llava = fixtures::llava_fixtures()?;
    let critic_dir = llava.join("llava-ov");
    let critic_max_new = CRITIC_MAX_NEW.to_string();
    let keys = [
        ("GENERATE_BATCH_SIZE", "2"),
        ("JUDGE_BATCH_SIZE", "4"),
        ("CRITIC_MAX_NEW_TOKENS", critic_max_new.as_str()),
        ("BATCH_SIZE", "2"),
        ("GRADIENT_ACCUMULATION_STEPS", "1"),
        ("LR_SCHEDULER", "constant"),
        ("WARMUP_RATIO", "0"),
    ];
    let services = [Service::Generation, Service::Judging, Service::Training];
    let (options, _) = tch::options("tch_campaign", &services, &keys);
    let cluster = Cluster::start(options).await?;
    let store = ArtifactStore::open(&StoreConfig::local(cluster.artifacts_root()))?;
    let (policy, _) = store.put_dir(Kind::Checkpoint, &policy_dir).await?;
    let (critic, _) = store.put_dir(Kind::Checkpoint, &critic_dir).await?;

    // text prompts: the policy is text-only (images reaching both models are covered by backend-tch's tests)
    let questions = ["What colour is the square?", "How many circles are there?"];
    let dataset = campaign::dataset(&cluster, questions.len(), |i| questions[i].to_string()).await?;
    let spec = campaign::spec(
        &dataset,
        1,
        K as u32,
        json!({
            "policy": {"checkpoint": format!("sha256:{}", policy.digest)},
            "critic": {"checkpoint": format!("sha256:{}", critic.digest)},
            "sampling": {"temperature": TEMPERATURE, "top_p": TOP_P, "max_new_tokens": MAX_NEW},
            "training": {"beta": 0.1, "learning_rate": 1e-3, "epochs": 1},
            "seed": SEED,
        }),
    );
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(300)).await?;
    let round = &view["rounds"][0];
    let round_id: Uuid = round["id"].as_str().unwrap_or_default().parse()?;

    // the stored samples are the tch policy's: each prompt's K samples recomputed with TextModel, with the
    // prompt's seed in the round (`GenerateTask::sampling_seed`), as the store keeps them (a random model
    // writes NUL now and then, and PostgreSQL's text holds U+FFFD in its place: `store::model_text`)
    let pool = cluster.pool().await?;
    let rows: Vec<(String, Uuid, i32, String)> = sqlx::query_as(
        "select p.question, p.id, s.sample_index, s.response from samples s join prompts p on p.id = s.prompt_id
         where s.round_id = $1 order by p.question, s.sample_index",
    )
    .bind(round_id)
    .fetch_all(&pool)
    .await?;
    let mut stored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut prompt_ids: BTreeMap<String, Uuid> = BTreeMap::new();
    for (question, prompt, _, response) in rows {
        prompt_ids.insert(question.clone(), prompt);
        stored.entry(question).or_default().push(response);
    }
    assert_eq!(stored.len(), questions.len(), "every prompt was sampled: {stored:#?}");
    let model = TextModel::load(&policy_dir, &LoadOptions::default())?;
    let mut seeds = std::collections::BTreeSet::new();
    for question in questions {
        let seed = GenerateTask::sampling_seed(SEED, 1, prompt_ids[question]);
        seeds.insert(seed);
        let cfg = GenerateConfig {
            max_new_tokens: MAX_NEW,
            sampling: Sampling::Random { temperature: TEMPERATURE, top_k: None, top_p: Some(TOP_P) },
            stop_token_ids: model.stop_token_ids(),
            samples_per_prompt: K,
            seed,
            prompt_seeds: None,
        };
        let prompt = model.prompt_text(&[json!({"role": "user", "content": question})], question)?;
        let want: Vec<String> =
            model.generate_text(&[prompt.as_str()], &cfg)?.remove(0).into_iter().map(stored_text).collect();
        assert_eq!(stored[question], want, "samples of `{question}`");
    }
    assert_eq!(seeds.len(), questions.len(), "each prompt draws with its own seed");
    drop(model);

    // every ordered pair was judged by the critic, raw text kept, and a judgment's raw text is the critic's
    // greedy output for its rendered prompt
    let judgments: Vec<(String, i32, i32, Value, String)> = sqlx::query_as(
        "select p.question, j.i, j.j, j.verdict, j.raw_output from judgments j join prompts p on p.id = j.prompt_id
         where j.round_id = $1 order by p.question, j.i, j.j",
    )
    .bind(round_id)
    .fetch_all(&pool)
    .await?;
    assert_eq!(judgments.len(), questions.len() * K * (K - 1), "{judgments:#?}");
    let unparsed = judgments.iter().filter(|j| j.3["status"] == "unparsed").count();
    assert!(unparsed * 2 > judgments.len(), "random critic text is mostly unparsed: {judgments:#?}");
    let template = critic::templates::get("llava-critic/pairwise").expect("the default template");
    for (_, _, _, verdict, raw) in &judgments {
        assert!(!raw.is_empty(), "the raw critic output is kept");
        assert_eq!(verdict, &serde_json::to_value(critic::parse(template.format, raw))?, "parsed from {raw:?}");
        if verdict["status"] == "unparsed" {
            assert!(verdict["reason"].as_str().is_some_and(|r| !r.is_empty()), "{verdict}");
        }
    }
    let (question, i, j, _, raw) = &judgments[0];
    let samples = &stored[question];
    let rendered = template
        .render(&critic::Fields::pairwise(question, &samples[*i as usize], &samples[*j as usize]))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let critic_model = VisionModel::load(&critic_dir, &LoadOptions::default())?;
    let prompt = critic_model.prompt_text(&[json!({"role": "user", "content": rendered})], "")?;
    let greedy = GenerateConfig {
        max_new_tokens: CRITIC_MAX_NEW,
        stop_token_ids: critic_model.stop_token_ids(),
        ..Default::default()
    };
    let want =
        stored_text(critic_model.generate_text(&[VisionPrompt::new(&prompt, &[])], &greedy)?.remove(0).remove(0));
    assert_eq!(raw, &want, "the stored raw critic output is the critic's greedy text");

    // the round finished either way: completed with the pairs the parsed verdicts gave, or failed with its
    // reason recorded (no parsed verdict, no pair)
    let state = round["state"].as_str().unwrap_or_default();
    let pairs = round["counts"]["pairs"].as_u64().unwrap_or(0);
    let reason: Option<String> =
        sqlx::query_scalar("select failure_reason from rounds where id = $1").bind(round_id).fetch_one(&pool).await?;
    match state {
        "completed" => {
            assert!(pairs > 0, "a completed round has pairs: {round:#}");
            assert_eq!(view["state"], "completed", "{view:#}");
        }
        "failed" => {
            let reason = reason.clone().unwrap_or_default();
            assert!(reason.contains("no preference pairs"), "recorded reason: {reason}");
            assert_eq!(pairs, 0, "{round:#}");
        }
        other => panic!("round ended `{other}`: {round:#}"),
    }
    pool.close().await;

    // no tch worker fell over: each still answers and started once
    for service in [Service::Generation, Service::Judging, Service::Training] {
        cluster.wait_ready(service, Duration::from_secs(5)).await?;
        assert_eq!(cluster.starts(service), 1, "{} restarted", service.name());
        let log = std::fs::read_to_string(cluster.log_path(service)).unwrap_or_default();
        assert!(!log.contains("panicked"), "{} log shows a panic", service.name());
    }
    eprintln!(
        "tch_campaign: round {state}, {} judgments, {unparsed} unparsed, {pairs} pairs, reason {reason:?}",
        judgments.len()
    );
    cluster.teardown().await
}

/// A generated text as the store keeps it.
fn stored_text((text, _): (String, model::Completion)) -> String {
    store::model_text::text(&text).into_owned()
}
