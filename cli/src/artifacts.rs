//! `criticloop artifacts gc [--dry-run] [--older-than 1d]`: garbage-collect the artifact store through the API.

use crate::Client;
use serde_json::json;

#[derive(Debug, clap::Subcommand)]
pub enum ArtifactsCommand {
    /// Delete the stored artifacts (images, checkpoints, pair sets) that no dataset, campaign or job
    /// references any more; prints the report as JSON.
    Gc {
        /// Only report what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Grace period: unreferenced artifacts younger than this are kept (`90s`, `30m`, `12h`, `7d`, or
        /// seconds) [default: the server's, one day].
        #[arg(long, value_parser = parse_duration_s)]
        older_than: Option<u64>,
    },
}

pub async fn run(cmd: ArtifactsCommand, client: &Client) -> anyhow::Result<()> {
    let ArtifactsCommand::Gc { dry_run, older_than } = cmd;
    let mut body = json!({ "dry_run": dry_run });
    if let Some(seconds) = older_than {
        body["older_than_s"] = seconds.into();
    }
    let report = client.post("/v1/artifacts/gc", &body).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    eprintln!(
        "{verb} {} unreferenced artifact(s), {} bytes; {} referenced, {} kept as younger than {}s",
        report["removed"], report["bytes_freed"], report["referenced"], report["spared_young"], report["older_than_s"]
    );
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// `90`, `90s`, `30m`, `12h` or `7d`, as seconds.
pub fn parse_duration_s(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("`{text}`: use a number of seconds or a number with s, m, h or d (e.g. 12h)")),
    };
    let n: u64 = number.parse().map_err(|_| format!("`{text}`: expected a number before the unit (e.g. 12h)"))?;
    n.checked_mul(scale).ok_or_else(|| format!("`{text}` is too long"))
}

#[cfg(test)]
mod tests {
    use super::parse_duration_s;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration_s("90"), Ok(90));
        assert_eq!(parse_duration_s("30m"), Ok(1800));
        assert_eq!(parse_duration_s("2h"), Ok(7200));
        assert_eq!(parse_duration_s("7d"), Ok(604_800));
        assert_eq!(parse_duration_s("0s"), Ok(0));
        assert!(parse_duration_s("h").is_err());
        assert!(parse_duration_s("3w").is_err());
        assert!(parse_duration_s("-1").is_err());
    }
}
