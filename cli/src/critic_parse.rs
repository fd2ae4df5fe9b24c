//! `criticloop critic parse --format F`: raw critic outputs (JSONL on stdin, the text in `output`) to
//! verdicts (JSONL on stdout). Every input field is kept; added are `parsed` (a verdict, or unparsed
//! with the reason), and `prediction` (pairwise formats: first / second / tie / null) or `score`
//! (pointwise formats), which `criticloop metrics` reads.

use critic::{Mode, OutputFormat};
use serde_json::Value;
use std::io::Write;

#[derive(Debug, clap::Subcommand)]
pub enum CriticCommand {
    /// Parse raw critic outputs: JSONL with an `output` field on stdin, verdicts on stdout.
    Parse {
        /// critic_pairwise, pairwise_letters, critic_pointwise, llava_wild, llava_wilder, mmhal, mmvet,
        /// wildvision, refo_mb, detailed_caption
        #[arg(long)]
        format: String,
    },
}

pub fn run(cmd: CriticCommand) -> anyhow::Result<()> {
    let CriticCommand::Parse { format } = cmd;
    let format: OutputFormat = serde_json::from_value(Value::String(format.clone())).map_err(|_| {
        let names: Vec<String> =
            OutputFormat::ALL.iter().filter_map(|f| serde_json::to_value(f).ok()).map(|v| v.to_string()).collect();
        anyhow::anyhow!("unknown --format `{format}`; choose one of {}", names.join(", "))
    })?;
    let rows = crate::jsonl::objects(std::io::stdin().lock())?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (line, mut row) in rows {
        let text = row
            .get("output")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("line {line}: missing string field `output` (the critic's raw text)"))?;
        let parsed = critic::parse(format, text);
        let verdict = parsed.verdict().cloned();
        match format.mode() {
            Mode::Pairwise => {
                let p = verdict.as_ref().and_then(|v| v.preference());
                row.insert("prediction".into(), serde_json::to_value(p)?);
            }
            Mode::Pointwise => {
                let score = match verdict {
                    Some(critic::Verdict::Score { value }) => Some(value),
                    Some(critic::Verdict::ScorePair { second, .. }) => Some(second),
                    _ => None,
                };
                row.insert("score".into(), serde_json::to_value(score)?);
            }
        }
        row.insert("parsed".into(), serde_json::to_value(&parsed)?);
        writeln!(out, "{}", Value::Object(row))?;
    }
    out.flush()?;
    Ok(())
}
