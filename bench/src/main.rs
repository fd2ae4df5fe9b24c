use clap::{Parser, Subcommand};
use criticloop_bench::{backlog, critic, raw, report, saga};

#[derive(Parser)]
#[command(name = "criticloop-bench", about = "criticloop throughput benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// One round of a campaign through a local cluster of the service binaries (fake backend).
    Saga(saga::Args),
    /// The broker ceiling: persistent messages through a quorum queue, confirms and acks, no database.
    Raw(raw::Args),
    /// One judge job (backlog) through a local cluster of the service binaries (fake critic).
    Backlog(backlog::Args),
    /// The critic core on one thread: parsers per format, agreement metrics.
    Critic(critic::Args),
    /// `raw`, then `saga`.
    All {
        #[command(flatten)]
        raw: raw::Args,
        #[command(flatten)]
        saga: saga::Args,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut out = serde_json::Map::new();
    match Cli::parse().command {
        Command::Saga(args) => {
            out.insert("saga".into(), report::run_saga(&args).await?);
        }
        Command::Raw(args) => {
            out.insert("raw".into(), report::run_raw(&args).await?);
        }
        Command::Backlog(args) => {
            out.insert("backlog".into(), report::run_backlog(&args).await?);
        }
        Command::Critic(args) => {
            out.insert("critic".into(), report::run_critic(&args)?);
        }
        Command::All { raw, saga } => {
            out.insert("raw".into(), report::run_raw(&raw).await?);
            out.insert("saga".into(), report::run_saga(&saga).await?);
        }
    }
    println!("{}", serde_json::Value::Object(out));
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
