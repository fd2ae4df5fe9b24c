//! The baseline critics through the real services (fake policy, no critic model): `baseline:random`
//! judges every ordered pair at random and its round trains on random pairs; `baseline:oracle` judges by
//! each prompt's ground truth, which travels from the imported world record to the judging worker.

use criticloop_tests::{Cluster, ClusterOptions, campaign};
use serde_json::{Value, json};
use std::time::Duration;
use world::score::normalise_answer;
use world::{World, WorldConfig};

async fn raw_outputs(cluster: &Cluster) -> anyhow::Result<Vec<(String, String, Value)>> {
    let pool = cluster.pool().await?;
    let rows: Vec<(String, String, Value)> = sqlx::query_as(
        "select p.question, j.raw_output, j.verdict from judgments j join prompts p on p.id = j.prompt_id",
    )
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    Ok(rows)
}

#[tokio::test(flavor = "multi_thread")]
async fn baseline_random_critic_judges_every_pair_and_the_round_trains_on_its_pairs() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("baseline_random")).await?;
    let dataset = campaign::dataset(&cluster, 8, |i| format!("question {i}")).await?;
    let spec = campaign::spec(&dataset, 1, 3, json!({"critic": {"checkpoint": "baseline:random"}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "completed", "{view:#}");
    let judged = raw_outputs(&cluster).await?;
    assert_eq!(judged.len(), 8 * 3 * 2, "K(K-1) ordered pairs per prompt");
    assert!(judged.iter().all(|(_, raw, _)| raw.starts_with("A random verdict.")), "{judged:?}");
    let picks = |side: &str| judged.iter().filter(|(_, raw, _)| raw.ends_with(&format!("[{side}]."))).count();
    assert!(picks("1") > 0 && picks("2") > 0, "both sides are picked");
    assert_eq!(picks("1") + picks("2"), judged.len(), "a random critic never ties");
    assert!(view["rounds"][0]["counts"]["pairs"].as_i64().unwrap_or_default() > 0, "{view:#}");
    cluster.teardown().await
}

#[tokio::test(flavor = "multi_thread")]
async fn baseline_oracle_critic_judges_by_each_prompts_ground_truth() -> anyhow::Result<()> {
    let cluster = Cluster::start(ClusterOptions::new("baseline_oracle")).await?;
    let config = WorldConfig { image_size: 32, max_objects: 3, ..WorldConfig::default() };
    let items = World::items(21, 6, &config)?;
    let dataset = campaign::import_world(&cluster, "oracle-world", &items).await?;
    let spec = campaign::spec(&dataset, 1, 3, json!({"critic": {"checkpoint": "baseline:oracle"}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    let judged = raw_outputs(&cluster).await?;
    assert_eq!(judged.len(), 6 * 3 * 2, "{view:#}");
    for (question, raw, verdict) in &judged {
        let item = items.iter().find(|i| &i.question == question).expect("the prompt is a world item");
        // the judgment says what the prompt's ground truth says the image shows, after copying each short
        // response's answer, or each description word for word
        let reference = match (&item.truth.answer, world::text::listing_and_lookup(question, &item.truth)) {
            (Some(answer), Some((listing, entries))) => {
                format!("{listing} {entries}. The answer is {}.", normalise_answer(answer))
            }
            (Some(answer), None) => format!("The answer is {}.", normalise_answer(answer)),
            (None, _) => {
                // the image read out shape first in reading order: "The image shows circle red large, ..."
                let width = item.scene().width;
                let first = item.objects().iter().min_by_key(|o| o.reading_key(width)).expect("an object");
                format!("The image shows {} {} {}", first.shape.word(), first.colour.word(), first.size.word())
            }
        };
        let at = raw.find(&reference).unwrap_or_else(|| panic!("{question}: no {reference:?} in {raw}"));
        let copies = &raw[..at];
        if item.truth.answer.is_some() {
            let both = copies.starts_with("Response 1 ") && copies.contains(". Response 2 ") && copies.ends_with(". ");
            assert!(both, "{question}: {raw}");
        } else {
            let both = copies.starts_with("Response 1 says \"fake response ")
                && copies.contains("\" Response 2 says \"fake response ")
                && copies.ends_with("\" ");
            assert!(both, "{question}: {raw}");
        }
        // the fake policy's responses are all wrong, so the oracle ties every pair
        assert!(raw.ends_with("Two responses are equally good."), "{question}: {raw}");
        assert_eq!(verdict["verdict"]["kind"], "tie", "{verdict}");
    }
    assert_eq!(view["state"], "failed", "{view:#}");
    assert!(view["failure_reason"].as_str().unwrap_or_default().contains("no preference pairs"), "{view:#}");

    // prompts without a ground truth: the oracle refuses them for good, and says why
    let plain = campaign::dataset(&cluster, 2, |i| format!("plain question {i}")).await?;
    let spec = campaign::spec(&plain, 1, 2, json!({"critic": {"checkpoint": "baseline:oracle"}}));
    let id = campaign::create(&cluster, &spec).await?;
    let view = campaign::wait_finished(&cluster, &id, Duration::from_secs(60)).await?;
    assert_eq!(view["state"], "failed", "{view:#}");
    let pool = cluster.pool().await?;
    let errors: Vec<String> = sqlx::query_scalar("select last_error from task_failures").fetch_all(&pool).await?;
    assert!(errors.iter().any(|e| e.contains("ground truth")), "{errors:?}");
    pool.close().await;
    cluster.teardown().await
}
