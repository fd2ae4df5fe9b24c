use clap::Parser;

#[tokio::main]
async fn main() {
    let cli = criticloop_cli::Cli::parse();
    if let Err(e) = criticloop_cli::run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
