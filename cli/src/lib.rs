//! The `criticloop` command line.

mod client;
mod demo;

pub use client::Client;

#[derive(Debug, clap::Parser)]
#[command(name = "criticloop", about = "Critic-driven preference learning, run as a job system")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run a demo campaign end to end and print what happened.
    Demo(demo::DemoArgs),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(args).await,
    }
}
