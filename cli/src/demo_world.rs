//! `criticloop demo --policy DIR --critic DIR`: the loop on real models. Prompts and a held-out set come
//! from the generated world (`shared/world`), the model services run the tch backend, and after the
//! campaign the demo prints the learning table: per round (0 = the starting policy) the held-out scores
//! the evaluation service stored, and how good the round's preference pairs were by the ground truth.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use critic::Preference;
use serde::Deserialize as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use world::critic_accuracy::{self, OrderedJudgment};
use world::{Item, World, WorldConfig};

use crate::Client;

/// Backend keys of the model services in the local cluster of a real-model demo. A world critic's
/// judgment of two four-object descriptions runs to about 210 tokens (each mention walked), so the critic
/// gets 256.
pub const TCH_KEYS: [(&str, &str); 7] = [
    ("GENERATE_BATCH_SIZE", "8"),
    ("JUDGE_BATCH_SIZE", "16"),
    ("CRITIC_MAX_NEW_TOKENS", "256"),
    ("BATCH_SIZE", "16"),
    ("GRADIENT_ACCUMULATION_STEPS", "1"),
    ("MAX_LENGTH", "512"),
    ("SAVE_STEPS", "0"),
];

/// Who ranks the sampled responses into the rounds' pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PairsFrom {
    /// The trained critic: LLaVA-Critic's method.
    Critic,
    /// The ground truth (`baseline:oracle`): the upper bound.
    Oracle,
    /// Random verdicts (`baseline:random`): the control.
    Random,
}

impl PairsFrom {
    /// The campaign's `critic.checkpoint` for this arm.
    fn critic_checkpoint(self, critic: &str) -> String {
        match self {
            PairsFrom::Critic => critic.to_string(),
            PairsFrom::Oracle => critic::baselines::ORACLE.into(),
            PairsFrom::Random => critic::baselines::RANDOM.into(),
        }
    }
}

/// What the real-model demo needs besides the shared demo options.
#[derive(Debug, Clone)]
pub struct WorldDemo<'a> {
    pub policy: &'a Path,
    pub critic: &'a Path,
    pub prompts: usize,
    pub heldout: usize,
    pub rounds: u32,
    pub samples: u32,
    pub beta: f64,
    pub learning_rate: f64,
    pub seed: u64,
    pub pairs_from: PairsFrom,
    /// The world the prompts and held-out rows are drawn from.
    pub world: WorldConfig,
}

/// The world's rows as the import endpoint takes them (JSONL, images inline); returns the dataset id.
async fn import(client: &Client, name: &str, items: &[Item]) -> Result<String> {
    let mut file = tempfile::NamedTempFile::new()?;
    world::write_jsonl(items, &mut file).map_err(|e| anyhow::anyhow!("{e}"))?;
    file.flush()?;
    let report = client
        .post_file(&format!("/v1/datasets/import?format=jsonl&name={name}"), file.path(), "application/x-ndjson")
        .await?;
    anyhow::ensure!(report["rows_ok"].as_u64() == Some(items.len() as u64), "importing {name}: {report}");
    report["dataset_id"].as_str().map(str::to_string).context("the import report has no dataset_id")
}

fn absolute(path: &Path) -> Result<String> {
    let path = std::fs::canonicalize(path).with_context(|| format!("{}", path.display()))?;
    anyhow::ensure!(path.join("config.json").is_file(), "{}: no config.json (not a checkpoint folder)", path.display());
    Ok(path.display().to_string())
}

/// Imports the world's prompts and held-out rows and creates the campaign; returns its id and the world's
/// training items (to score the rounds' pairs by).
pub async fn create(client: &Client, demo: &WorldDemo<'_>) -> Result<(String, Vec<Item>)> {
    let world = |seed, n| World::items(seed, n, &demo.world).map_err(|e| anyhow::anyhow!("{e}"));
    let train = world(1000 + demo.seed, demo.prompts)?;
    let heldout = world(1, demo.heldout)?;
    let train_id = import(client, "demo world prompts", &train).await?;
    let heldout_id = import(client, "demo world held out", &heldout).await?;
    let critic = absolute(demo.critic)?;
    let spec = json!({
        "name": format!("demo (world, pairs from {:?})", demo.pairs_from).to_lowercase(),
        "dataset_id": train_id,
        "rounds": demo.rounds,
        "samples_per_prompt": demo.samples,
        "seed": demo.seed,
        "policy": {"checkpoint": absolute(demo.policy)?},
        "critic": {"checkpoint": demo.pairs_from.critic_checkpoint(&critic)},
        "sampling": {"temperature": 1.0, "top_p": 1.0, "max_new_tokens": 48},
        "training": {"beta": demo.beta, "learning_rate": demo.learning_rate, "epochs": 1},
        // the trained critic judges the held-out answers in every arm, so the arms' scores compare
        "evaluation": {"dataset_id": heldout_id, "max_new_tokens": 48, "critic": critic},
    });
    let created = client.post("/v1/campaigns", &spec).await?;
    let id = created["id"].as_str().context("the API returned no campaign id")?.to_string();
    Ok((id, train))
}

/// How a round's chosen/rejected pairs stand by the ground truth.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PairQuality {
    pub pairs: usize,
    /// Chosen better than rejected by the ground truth.
    pub right: usize,
    /// Rejected better than chosen: the pair teaches the wrong way.
    pub inverted: usize,
}

/// The demo's world items by the prompt the API knows them as: the stored image's digest and the question.
pub struct Prompts<'a>(HashMap<(String, &'a str), &'a Item>);

impl<'a> Prompts<'a> {
    /// Renders each item's image once, as the import stored it, and keys the item by its digest.
    pub fn new(items: &'a [Item]) -> Result<Self> {
        let mut by_prompt = HashMap::new();
        for item in items {
            let png = world::png_bytes(&world::render(item.scene())).map_err(|e| anyhow::anyhow!("{e}"))?;
            by_prompt.insert((format!("sha256:{}", hex::encode(Sha256::digest(&png))), item.question.as_str()), item);
        }
        Ok(Self(by_prompt))
    }

    /// The item an exported line (a pair or a judgment) was asked about, by its `image` and `prompt`.
    fn item(&self, line: &Value) -> Result<&'a Item> {
        let key = (line["image"].as_str().unwrap_or_default().to_string(), line["prompt"].as_str().unwrap_or_default());
        self.0.get(&key).copied().with_context(|| format!("a line for a prompt the demo did not import: {key:?}"))
    }

    /// Scores a round's pairs (the API's JSONL export) against the items they were asked about.
    pub fn pair_quality(&self, export: &str) -> Result<PairQuality> {
        let mut q = PairQuality::default();
        for line in export.lines().filter(|l| !l.trim().is_empty()) {
            let pair: Value = serde_json::from_str(line)?;
            let item = self.item(&pair)?;
            let (chosen, rejected) =
                (pair["chosen"].as_str().unwrap_or_default(), pair["rejected"].as_str().unwrap_or_default());
            q.pairs += 1;
            match world::better(&item.truth, chosen, rejected) {
                std::cmp::Ordering::Greater => q.right += 1,
                std::cmp::Ordering::Less => q.inverted += 1,
                std::cmp::Ordering::Equal => {}
            }
        }
        Ok(q)
    }

    /// The judge's verdicts on a round's ordered pairs (the API's judgments export) against the ground
    /// truth: `world::critic_accuracy`'s report (accuracy with and without ties, inverted verdicts, position
    /// consistency, per kind of item).
    pub fn judge_quality(&self, export: &str) -> Result<Value> {
        let mut pair_ids: HashMap<(String, i64, i64), usize> = HashMap::new();
        let mut judgments = Vec::new();
        for line in export.lines().filter(|l| !l.trim().is_empty()) {
            let j: Value = serde_json::from_str(line)?;
            let item = self.item(&j)?;
            let (i, k) = (j["i"].as_i64().context("a judgment without i")?, j["j"].as_i64().context("without j")?);
            let next = pair_ids.len();
            let pair = *pair_ids.entry((j["id"].to_string(), i.min(k), i.max(k))).or_insert(next);
            let (first, second) = (j["first"].as_str().unwrap_or_default(), j["second"].as_str().unwrap_or_default());
            let oracle = critic_accuracy::oracle(&item.truth, first, second);
            let critic = Option::<Preference>::deserialize(&j["preference"]).unwrap_or(None);
            judgments.push(OrderedJudgment {
                pair,
                swapped: i > k,
                short: item.truth.answer.is_some(),
                oracle,
                critic,
            });
        }
        Ok(critic_accuracy::report(&judgments))
    }
}

/// What the ground truth says of one round's judging: its chosen/rejected pairs, and the judge's verdicts
/// on all its ordered pairs ([`Prompts::judge_quality`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundQuality {
    pub pairs: PairQuality,
    pub judge: Value,
}

/// One row of the learning table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub round: u32,
    pub scores: Vec<Value>,
    pub quality: Option<RoundQuality>,
}

/// The held-out columns: (header, suite, metric).
pub const COLUMNS: [(&str, &str, &str); 6] = [
    ("short EM", "world/short", "exact_match"),
    ("desc F1", "world/describe", "f1"),
    ("recall", "world/describe", "recall"),
    ("halluc", "world/describe", "hallucination_rate"),
    ("relative", "critic/relative", "relative_score"),
    ("win vs 0", "critic/vs_round0", "win_rate"),
];

fn metric(evaluations: &Value, suite: &str, key: &str) -> Value {
    evaluations
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["suite"] == suite)
        .map(|e| e["metrics"][key].clone())
        .unwrap_or(Value::Null)
}

/// Round 0 (the first round's `base_evaluations`) and every round's own evaluations, with its judging's
/// quality where `quality` has it (by round number).
pub fn table(view: &Value, quality: &HashMap<u32, RoundQuality>) -> Vec<Row> {
    let rounds = view["rounds"].as_array().map(Vec::as_slice).unwrap_or_default();
    let scores = |evaluations: &Value| COLUMNS.iter().map(|(_, s, k)| metric(evaluations, s, k)).collect();
    let mut rows = Vec::new();
    if let Some(first) = rounds.first() {
        rows.push(Row { round: 0, scores: scores(&first["base_evaluations"]), quality: None });
    }
    for r in rounds {
        let n = r["number"].as_u64().unwrap_or(0) as u32;
        rows.push(Row { round: n, scores: scores(&r["evaluations"]), quality: quality.get(&n).cloned() });
    }
    rows
}

/// The judge's columns: (header, key in `world::critic_accuracy`'s report).
const JUDGE_COLUMNS: [(&str, &str); 3] =
    [("judge acc", "accuracy_without_ties"), ("+ties", "accuracy_with_ties"), ("pos cons", "position_consistency")];

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| format!("{:>9}", "-"), |x| format!("{x:>9.3}"))
}

pub fn print_table(rows: &[Row]) {
    print!("{:<6}", "round");
    for (header, _, _) in COLUMNS {
        print!(" {header:>9}");
    }
    print!(" {:>6} {:>9} {:>9}", "pairs", "right", "inverted");
    for (header, _) in JUDGE_COLUMNS {
        print!(" {header:>9}");
    }
    println!();
    for row in rows {
        print!("{:<6}", row.round);
        for v in &row.scores {
            print!(" {}", cell(v.as_f64()));
        }
        match &row.quality {
            Some(q) => {
                let p = q.pairs;
                let share = |n: usize| (p.pairs > 0).then(|| n as f64 / p.pairs as f64);
                print!(" {:>6} {} {}", p.pairs, cell(share(p.right)), cell(share(p.inverted)));
                for (_, key) in JUDGE_COLUMNS {
                    print!(" {}", cell(q.judge[key].as_f64()));
                }
                println!();
            }
            None => {
                let empty = format!(" {}", cell(None));
                println!(" {:>6}{}", "-", empty.repeat(2 + JUDGE_COLUMNS.len()));
            }
        }
    }
}

/// The table as JSON (what `criticloop demo --report` writes): per round the held-out scores by column,
/// the pairs' quality and the judge's report.
pub fn report(rows: &[Row]) -> Value {
    let rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            let scores: serde_json::Map<String, Value> =
                COLUMNS.iter().zip(&row.scores).map(|((header, _, _), v)| (header.to_string(), v.clone())).collect();
            let quality = row.quality.as_ref().map(|q| {
                json!({"pairs": q.pairs.pairs, "right": q.pairs.right, "inverted": q.pairs.inverted, "judge": q.judge})
            });
            json!({"round": row.round, "scores": scores, "quality": quality})
        })
        .collect();
    json!({ "rounds": rows })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first short-answer item and its image's reference, as the API names it.
    fn short_item(items: &[Item]) -> (&Item, String) {
        let item = items.iter().find(|i| i.answer().is_some()).expect("a short-answer item");
        let png = world::png_bytes(&world::render(item.scene())).expect("png");
        (item, format!("sha256:{}", hex::encode(Sha256::digest(&png))))
    }

    #[test]
    fn pairs_are_scored_against_the_item_they_were_asked_about() {
        let items = World::items(3, 12, &WorldConfig::default()).expect("world");
        let (item, image) = short_item(&items);
        let answer = item.answer().expect("answer");
        let line = |chosen: &str, rejected: &str| {
            json!({"image": image, "prompt": item.question, "chosen": chosen, "rejected": rejected}).to_string()
        };
        let export = [line(answer, "zzz"), line("zzz", answer), line("zzz", "yyy")].join("\n");
        let prompts = Prompts::new(&items).expect("indexed");
        let q = prompts.pair_quality(&export).expect("scored");
        assert_eq!(q, PairQuality { pairs: 3, right: 1, inverted: 1 });
        let stranger = json!({"image": "sha256:00", "prompt": "?", "chosen": "a", "rejected": "b"}).to_string();
        assert!(prompts.pair_quality(&stranger).is_err());
    }

    #[test]
    fn judgments_are_scored_against_the_truth_in_both_orders() {
        let items = World::items(3, 12, &WorldConfig::default()).expect("world");
        let (item, image) = short_item(&items);
        let answer = item.answer().expect("answer");
        let line = |i: u32, j: u32, first: &str, second: &str, preference: Value| {
            json!({"id": "p", "image": image, "prompt": item.question, "i": i, "j": j, "first": first,
                   "second": second, "preference": preference})
            .to_string()
        };
        let export = [
            // samples 0 (right) and 1 (wrong): right in the first order, inverted in the second
            line(0, 1, answer, "zzz", json!("first")),
            line(1, 0, "zzz", answer, json!("first")),
            // samples 1 and 2, both wrong: a tie, called a tie both ways
            line(1, 2, "zzz", "yyy", json!("tie")),
            line(2, 1, "yyy", "zzz", json!("tie")),
            // unparsed
            line(0, 2, answer, "yyy", Value::Null),
        ]
        .join("\n");
        let r = Prompts::new(&items).expect("indexed").judge_quality(&export).expect("scored");
        assert_eq!(r["judgments"], 5);
        assert_eq!(r["unparsed"], 1);
        // an unparsed verdict counts as a miss: 1 of the 3 decided orders, 3 of all 5
        assert_eq!(r["accuracy_without_ties"], json!(1.0 / 3.0), "{r}");
        assert_eq!(r["accuracy_with_ties"], json!(0.6), "{r}");
        assert_eq!(r["inverted"], json!(0.5), "{r}");
        assert_eq!((r["position_checked"].clone(), r["position_consistency"].clone()), (json!(2), json!(0.5)));
        assert_eq!(r["short"]["judgments"], 5);
    }

    #[test]
    fn the_table_starts_with_round_zero_from_the_first_rounds_base_evaluations() {
        let suite = |f1: f64| json!([{"suite": "world/describe", "metrics": {"f1": f1, "recall": 0.5}}]);
        let view = json!({"rounds": [
            {"number": 1, "base_evaluations": suite(0.1), "evaluations": suite(0.2)},
            {"number": 2, "base_evaluations": suite(0.2), "evaluations": suite(0.3)},
        ]});
        let quality = RoundQuality { pairs: PairQuality { pairs: 4, right: 3, inverted: 1 }, judge: json!({}) };
        let rows = table(&view, &HashMap::from([(1, quality)]));
        let f1: Vec<Option<f64>> = rows.iter().map(|r| r.scores[1].as_f64()).collect();
        assert_eq!(f1, [Some(0.1), Some(0.2), Some(0.3)]);
        assert_eq!(rows.iter().map(|r| r.round).collect::<Vec<_>>(), [0, 1, 2]);
        let right: Vec<Option<usize>> = rows.iter().map(|r| r.quality.as_ref().map(|q| q.pairs.right)).collect();
        assert_eq!(right, [None, Some(3), None]);
        let report = report(&rows);
        assert_eq!(report["rounds"][1]["scores"]["desc F1"], json!(0.2));
        assert_eq!(report["rounds"][1]["quality"]["right"], json!(3));
        assert_eq!(report["rounds"][0]["quality"], Value::Null);
        assert_eq!(rows[0].scores[0], Value::Null, "no short-answer suite: shown as missing");
    }
}
