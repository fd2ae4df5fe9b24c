//! `criticloop world`: offline tools for the generated visual world (`shared/world`), files out, no API.
//! - `items`: a seeded dataset in the import format (`dataset import --format jsonl`), ground truth in
//!   each row's `world` field (what the evaluation scores against);
//! - `critic-data`: critic instruction data in TRL's pair format for `criticloop-train` (`--loss sft`
//!   trains on prompt + chosen): LLaVA-Critic's pairwise prompt over two sampled responses, with the
//!   image, and the ground truth's judgment (reasons and verdict sentence); images are written beside the
//!   file;
//! - `sft-data`: policy fine-tuning data in the same format: each question with a sampled answer of a
//!   chosen quality (a middling policy's omissions, inventions and wrong answers), or with `--listed`
//!   the ground truth's listed short answers (the scene read out before the answer);
//! - `tokenizer`: a byte-level BPE tokenizer trained on the world's text (and the critic prompts), saved
//!   as a Hugging Face tokenizer folder with a chat template;
//! - `repeat-data`: text-only rows in the same format whose completion repeats the end of the prompt
//!   (random tokens of a tokenizer's vocabulary written twice), a critic's warm-up stage.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use critic::templates::Fields;
use serde_json::json;
use world::{Family, Item, SplitMix64, TokenizerSettings, World, WorldConfig};

#[derive(Debug, clap::Subcommand)]
pub enum WorldCommand {
    /// Write a seeded world dataset as import-format JSONL (images inline).
    Items {
        #[command(flatten)]
        world: WorldArgs,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write critic instruction data (TRL pair format with `images`, the judgment as `chosen`).
    CriticData {
        #[command(flatten)]
        world: WorldArgs,
        /// Share of a sampled response that is right (1: always right, 0: always wrong).
        #[arg(long, default_value_t = 0.6, value_parser = unit_interval)]
        quality: f64,
        /// The same for descriptions alone (the lower, the more objects left out, mis-sized or invented;
        /// default: --quality). At 0.3 about half the mentions are of objects the image lacks: an even
        /// prior for the mention check ("which is not"), while short answers keep --quality.
        #[arg(long, value_parser = unit_interval)]
        describe_quality: Option<f64>,
        /// Share of the sampled description responses that are instead the scene with one object given
        /// another shape, of the same colour (`world::text::shape_swapped`): the error a policy that reads
        /// colours but not shapes makes, which only the image tells from the right description.
        #[arg(long, default_value_t = 0.0, value_parser = unit_interval)]
        shape_swap: f64,
        /// Share of the rows that are pointwise judgments (LLaVA-Critic's pointwise prompt, "Score: N" out
        /// of 100) instead of pairwise ones.
        #[arg(long, default_value_t = 0.25, value_parser = unit_interval)]
        pointwise_share: f64,
        /// Write only each judgment's opening, the responses copied from the prompt ("Response 1 says
        /// \"...\" Response 2 says \"...\""), for a stage that teaches the copy before the judgment; `rejected`
        /// is the two copies swapped (pointwise: the copy of another sampled response).
        #[arg(long)]
        copies_only: bool,
        /// The JSONL file; images go to `IMAGES/` beside it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write policy fine-tuning data (TRL pair format with `images`): each question with a sampled answer
    /// of the given quality as `chosen` (what `criticloop-train --loss sft` trains on) and another
    /// sample at half that quality as `rejected` (usually worse, not always).
    SftData {
        #[command(flatten)]
        world: WorldArgs,
        /// Share of the answer that is right: 1 gives the ground truth, lower values a middling policy's
        /// answers (omitted and invented objects, wrong short answers).
        #[arg(long, default_value_t = 0.8, value_parser = unit_interval)]
        quality: f64,
        /// Answer short questions by reading the scene out first, then looking the asked shape up in that
        /// text ("square red, cross blue. cross blue. no.": `world::listed_answer`); needs --quality 1 (the
        /// listing is the ground truth's). Relations stay one word unless --listed-relations.
        #[arg(long)]
        listed: bool,
        /// With --listed, relations too: each object's grid cell read out, then the two named objects'
        /// cells ("... square red column three, cross blue column six. yes.":
        /// `world::text::relation_listed_answer`). Off by default: it has not yet taught relations (README,
        /// sessions 17-18).
        #[arg(long, requires = "listed")]
        listed_relations: bool,
        /// The JSONL file; images go to `STEM-images/` beside it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Train and save a tokenizer for the world (tokenizer.json, tokenizer_config.json).
    Tokenizer {
        #[command(flatten)]
        world: WorldArgs,
        #[arg(long, default_value_t = 512)]
        vocab_size: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write repeat rows (text only, the completion as `chosen` and `rejected`): random tokens of the
    /// tokenizer's vocabulary, decoded, then the last 8-40 of them again.
    RepeatData {
        /// The tokenizer folder (tokenizer.json) whose vocabulary the tokens are drawn from: the model's.
        #[arg(long)]
        tokenizer: PathBuf,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long, default_value_t = 4800)]
        count: usize,
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Every family, as `--families` takes them (the default of `criticloop world` and of the demo).
pub const ALL_FAMILIES: &str = "colour,count,presence,relation,describe";

#[derive(Debug, clap::Args)]
pub struct WorldArgs {
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 100)]
    count: usize,
    /// Width and height of the images in pixels.
    #[arg(long, default_value_t = 48)]
    image_size: u32,
    #[arg(long, default_value_t = 4)]
    max_objects: usize,
    /// Place objects at any pixel instead of on the grid's cells (one cell per small object, a sixth of the
    /// image across: the vision tower's patch at 48 pixels).
    #[arg(long)]
    anywhere: bool,
    /// Task families drawn from (colour, count, presence, relation, describe).
    #[arg(long, value_delimiter = ',', default_value = ALL_FAMILIES)]
    families: Vec<Family>,
}

impl WorldArgs {
    fn items(&self) -> Result<Vec<Item>> {
        let config = WorldConfig {
            image_size: self.image_size,
            max_objects: self.max_objects,
            grid: !self.anywhere,
            families: self.families.clone(),
            ..WorldConfig::default()
        };
        World::items(self.seed, self.count, &config).map_err(|e| anyhow::anyhow!("{e}"))
    }
}

pub fn run(cmd: WorldCommand) -> Result<()> {
    match cmd {
        WorldCommand::Items { world, output } => {
            let items = world.items()?;
            let mut file = create(&output)?;
            world::write_jsonl(&items, &mut file)?;
            file.flush()?;
            eprintln!("{} items written to {}", items.len(), output.display());
        }
        WorldCommand::CriticData {
            world,
            quality,
            describe_quality,
            shape_swap,
            pointwise_share,
            copies_only,
            output,
        } => {
            let items = world.items()?;
            let quality = Quality { short: quality, describe: describe_quality.unwrap_or(quality), shape_swap };
            let target = if copies_only { Target::Copies } else { Target::Judgment };
            let rows = critic_data(&items, world.seed, quality, pointwise_share, target, &output)?;
            eprintln!("{rows} critic examples written to {}", output.display());
        }
        WorldCommand::SftData { world, quality, listed, listed_relations, output } => {
            anyhow::ensure!(
                !listed || quality == 1.0,
                "--listed writes the ground truth's listing: it needs --quality 1, got {quality}"
            );
            let items = world.items()?;
            let mut rng = SplitMix64::new(world.seed ^ 0x5f7);
            let rows = write_pairs(&items, &output, |item| {
                // sampled even when listed, so that `rejected` stays the same as without --listed
                let sampled = world::sample_response(item, &mut rng, quality);
                let positioned = || if listed_relations { world::text::relation_listed_answer(item) } else { None };
                let chosen =
                    if listed { world::listed_answer(item).or_else(positioned).unwrap_or(sampled) } else { sampled };
                let rejected = world::sample_response(item, &mut rng, quality / 2.0);
                Ok(pair_row(&item.question, &chosen, &rejected))
            })?;
            eprintln!("{rows} fine-tuning examples written to {}", output.display());
        }
        WorldCommand::Tokenizer { world, vocab_size, output } => {
            let items = world.items()?;
            let mut corpus = world::tokenizer::world_corpus(&items);
            let mut rng = SplitMix64::new(world.seed ^ 0x7e57);
            for item in items.iter().take(200) {
                let (a, b) = (world::sample_response(item, &mut rng, 0.6), world::sample_response(item, &mut rng, 0.6));
                corpus.push(critic_prompt(item, &a, &b)?);
                corpus.push(world::pairwise_judgment(&item.question, &item.truth, &a, &b).1);
            }
            let settings = TokenizerSettings { vocab_size, ..TokenizerSettings::default() };
            let tokenizer = world::build_tokenizer(&corpus, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
            world::save_tokenizer(&tokenizer, &output, &settings).map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("tokenizer of {} entries written to {}", tokenizer.get_vocab_size(true), output.display());
        }
        WorldCommand::RepeatData { tokenizer, seed, count, output } => {
            let tokenizer = world::tokenizer::load_tokenizer(&tokenizer).context("--tokenizer")?;
            let rows = world::tokenizer::repeat_rows(&tokenizer, seed, count)?;
            let mut file = create(&output)?;
            for row in &rows {
                let mut value = pair_row(&row.prompt, &row.completion, &row.completion);
                value["id"] = json!(row.id);
                writeln!(file, "{value}")?;
            }
            file.flush()?;
            eprintln!("{} repeat rows written to {}", rows.len(), output.display());
        }
    }
    Ok(())
}

/// One of LLaVA-Critic's released prompts, filled in (without its leading `<image>`: the pair's image is
/// shown by the chat template, as the judging service shows it).
fn critic_prompt_with(template: &str, fields: &Fields<'_>) -> Result<String> {
    let template = critic::templates::get(template).with_context(|| format!("the template {template}"))?;
    let prompt = template.render(fields)?;
    Ok(prompt.strip_prefix("<image>\n").unwrap_or(&prompt).to_string())
}

/// LLaVA-Critic's released pairwise prompt for two responses to `item`.
fn critic_prompt(item: &Item, first: &str, second: &str) -> Result<String> {
    critic_prompt_with("llava-critic/pairwise", &Fields::pairwise(&item.question, first, second))
}

/// What a critic-data row's `chosen` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The whole judgment, ending in the verdict or the score.
    Judgment,
    /// The judgment's opening alone: the responses copied from the prompt.
    Copies,
}

/// Writes one row per item: two sampled responses with the ground truth's pairwise judgment as `chosen`
/// and the opposite verdict as `rejected` (so the file also serves DPO on the critic), or, for a
/// `pointwise_share` of the items, one response with its pointwise judgment ("Score: N") as `chosen` and
/// a score on the wrong side of 50 as `rejected`. With [`Target::Copies`] `chosen` is the judgment's
/// opening copies alone, `rejected` a wrong copy. Returns the number of rows.
fn critic_data(
    items: &[Item],
    seed: u64,
    quality: Quality,
    pointwise_share: f64,
    target: Target,
    output: &Path,
) -> Result<usize> {
    let mut rng = SplitMix64::new(seed ^ 0xc417);
    write_pairs(items, output, |item| {
        if rng.chance(pointwise_share) {
            let response = quality.sample(item, &mut rng);
            let prompt = critic_prompt_with("llava-critic/pointwise", &Fields::pointwise(&item.question, &response))?;
            let (score, judgment) = world::pointwise_judgment(&item.question, &item.truth, &response);
            let (chosen, rejected) = match target {
                Target::Judgment => {
                    let reasons = judgment.lines().next().unwrap_or_default();
                    let wrong = if score >= 50 { score / 4 } else { 100 - score / 4 };
                    let rejected = format!("{reasons}\nScore: {wrong}");
                    (judgment, rejected)
                }
                Target::Copies => {
                    let other = quality.sample(item, &mut rng);
                    (world::pointwise_copy(&item.truth, &response), world::pointwise_copy(&item.truth, &other))
                }
            };
            let mut row = pair_row(&prompt, &chosen, &rejected);
            row["score"] = json!(score);
            return Ok(row);
        }
        let (a, b) = (quality.sample(item, &mut rng), quality.sample(item, &mut rng));
        let (verdict, judgment) = world::pairwise_judgment(&item.question, &item.truth, &a, &b);
        let (chosen, rejected) = match target {
            Target::Judgment => {
                let wrong = match verdict {
                    world::PairVerdict::First => "The better response: [2].",
                    world::PairVerdict::Second | world::PairVerdict::Tie => "The better response: [1].",
                };
                let reasons = judgment.lines().next().unwrap_or_default();
                let rejected = format!("{reasons}\n{wrong}");
                (judgment, rejected)
            }
            Target::Copies => {
                (world::pairwise_copies(&item.truth, &a, &b), world::pairwise_copies(&item.truth, &b, &a))
            }
        };
        let mut row = pair_row(&critic_prompt(item, &a, &b)?, &chosen, &rejected);
        row["verdict"] = json!(format!("{verdict:?}").to_lowercase());
        Ok(row)
    })
}

/// One row of TRL's pair format, which every file here writes: the user's `prompt`, and the assistant's
/// `chosen` and `rejected` turns.
fn pair_row(prompt: &str, chosen: &str, rejected: &str) -> serde_json::Value {
    json!({
        "prompt": [{"role": "user", "content": prompt}],
        "chosen": [{"role": "assistant", "content": chosen}],
        "rejected": [{"role": "assistant", "content": rejected}],
    })
}

/// A quality or a share, checked as clap parses the flag so that the error names it: a number in [0, 1].
fn unit_interval(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&value) { Ok(value) } else { Err(format!("must be in [0, 1], got {value}")) }
}

/// How responses are sampled: the quality for short answers and for descriptions, and the share of
/// descriptions that are shape-swapped instead.
#[derive(Debug, Clone, Copy)]
struct Quality {
    short: f64,
    describe: f64,
    shape_swap: f64,
}

impl Quality {
    /// A sampled response to `item`. No draw is spent on the swap while its share is 0, so rows written
    /// without `--shape-swap` stay as they were.
    fn sample(self, item: &Item, rng: &mut SplitMix64) -> String {
        if item.truth.family.is_short() {
            return world::sample_response(item, rng, self.short);
        }
        if self.shape_swap > 0.0 && rng.chance(self.shape_swap) {
            return world::text::shape_swapped(item, rng);
        }
        world::sample_response(item, rng, self.describe)
    }
}

/// Writes `row(item)` for every item as a JSONL line, with `id` and `images` (the item's image, written to
/// `STEM-images/` beside the file and named relative to it) added. Returns the number of rows.
fn write_pairs(
    items: &[Item],
    output: &Path,
    mut row: impl FnMut(&Item) -> Result<serde_json::Value>,
) -> Result<usize> {
    let stem = output.file_stem().and_then(|s| s.to_str()).unwrap_or("pairs");
    let images = output.with_file_name(format!("{stem}-images"));
    std::fs::create_dir_all(&images).with_context(|| format!("creating {}", images.display()))?;
    let mut file = create(output)?;
    for item in items {
        let name = format!("{}.png", item.id);
        let png = world::png_bytes(&world::render(item.scene()))?;
        std::fs::write(images.join(&name), png).with_context(|| format!("writing {name}"))?;
        let mut value = row(item)?;
        value["id"] = json!(item.id);
        value["images"] = json!([format!("{stem}-images/{name}")]);
        writeln!(file, "{value}")?;
    }
    file.flush()?;
    Ok(items.len())
}

fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    Ok(std::io::BufWriter::new(file))
}

#[cfg(test)]
mod tests {
    use super::{ALL_FAMILIES, Family, unit_interval};

    #[test]
    fn the_default_families_are_every_family() {
        let parsed: Result<Vec<Family>, String> = ALL_FAMILIES.split(',').map(str::parse).collect();
        assert_eq!(parsed, Ok(Family::ALL.to_vec()));
    }

    #[test]
    fn unit_interval_takes_zero_to_one_only() {
        assert_eq!(unit_interval("0"), Ok(0.0));
        assert_eq!(unit_interval("0.3"), Ok(0.3));
        assert_eq!(unit_interval("1"), Ok(1.0));
        assert_eq!(unit_interval("2"), Err("must be in [0, 1], got 2".to_string()));
        assert!(unit_interval("-0.1").is_err());
        assert!(unit_interval("NaN").is_err());
        assert!(unit_interval("half").is_err());
    }
}
