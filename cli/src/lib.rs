//! The `criticloop` command line.

mod artifacts;
mod campaign;
mod client;
mod config;
mod critic_parse;
mod dataset;
mod dataset_import;
mod demo;
pub mod demo_world;
mod jsonl;
mod judge;
mod metrics;
mod pairs;
mod watch;
mod world;

pub use client::Client;

#[derive(Debug, clap::Parser)]
#[command(name = "criticloop", about = "Critic-driven preference learning, run as a job system")]
pub struct Cli {
    /// The criticloop API [default: api_url in the config file, else http://127.0.0.1:8080]
    #[arg(long, global = true, env = "CRITICLOOP_API_URL")]
    pub api_url: Option<String>,
    /// API bearer token [default: token in the config file]
    #[arg(long, global = true, env = "CRITICLOOP_API_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run a demo campaign end to end and print what happened.
    Demo(demo::DemoArgs),
    /// Datasets: create from prompts, import files (llava-json, jsonl, parquet), list, show, export.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Create, follow and control campaigns.
    #[command(subcommand)]
    Campaign(campaign::CampaignCommand),
    /// Export a round's preference pairs for DPO training.
    #[command(subcommand)]
    Pairs(pairs::PairsCommand),
    /// The artifact store: garbage-collect what nothing references.
    #[command(subcommand)]
    Artifacts(artifacts::ArtifactsCommand),
    /// Judge jobs: push a backlog of items through the critic.
    #[command(subcommand)]
    Judge(judge::JudgeCommand),
    /// Offline tools for critic outputs (no API needed).
    #[command(subcommand)]
    Critic(critic_parse::CriticCommand),
    /// Agreement metrics of judge predictions against labels: JSONL on stdin, JSON on stdout.
    Metrics(metrics::MetricsArgs),
    /// Offline tools for the generated visual world: datasets with ground truth, critic data, a tokenizer.
    #[command(subcommand)]
    World(world::WorldCommand),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(args, cli.api_url, cli.token.unwrap_or_default()).await,
        Command::Dataset(cmd) => dataset::run(cmd, &config::client(cli.api_url, cli.token)?).await,
        Command::Campaign(cmd) => campaign::run(cmd, &config::client(cli.api_url, cli.token)?).await,
        Command::Pairs(cmd) => pairs::run(cmd, &config::client(cli.api_url, cli.token)?).await,
        Command::Artifacts(cmd) => artifacts::run(cmd, &config::client(cli.api_url, cli.token)?).await,
        Command::Judge(cmd) => judge::run(cmd, &config::client(cli.api_url, cli.token)?).await,
        Command::Critic(cmd) => critic_parse::run(cmd),
        Command::Metrics(args) => metrics::run(args),
        Command::World(cmd) => world::run(cmd),
    }
}
