//! Throughput of the critic core, single-threaded: parsing critic outputs (per format, on realistic
//! texts) and the agreement metrics (correlations, accuracy, MLE Elo with bootstrap).

use crate::report::{rate, secs, table};
use critic::metrics::{self, Battle, Bootstrap, EloConfig, Winner};
use critic::{OutputFormat, Preference};
use serde::Serialize;
use std::hint::black_box;
use std::time::Instant;

#[derive(Debug, Clone, clap::Args)]
#[group(id = "critic")]
pub struct Args {
    /// Parses per format.
    #[arg(long, default_value_t = 200_000)]
    pub parses: usize,
    /// Items for the correlation and accuracy metrics.
    #[arg(long, default_value_t = 100_000)]
    pub items: usize,
    /// Battles for the Elo fit (among 12 models).
    #[arg(long, default_value_t = 20_000)]
    pub battles: usize,
    /// Bootstrap rounds for the Elo intervals.
    #[arg(long, default_value_t = 100)]
    pub bootstrap: usize,
}

const CRITIQUE: &str = "Both answers identify the red circle, but the first response claims there are three \
squares in the image while only two are visible, which is a hallucination. The second response correctly counts \
the two blue squares and also mentions their relative position to the triangle. It is more detailed and more \
accurate with respect to the image content. ";

/// Realistic outputs per format, cycled through.
fn corpus() -> Vec<(OutputFormat, &'static str, Vec<String>)> {
    let c = CRITIQUE;
    vec![
        (
            OutputFormat::CriticPairwise,
            "critic_pairwise",
            vec![
                format!("{c}The better response: [2]."),
                format!("{c}The better response: [1]."),
                format!("{c}Two responses are equally good."),
                format!("{c}Overall, Response 1 is better."),
            ],
        ),
        (OutputFormat::LlavaWild, "llava_wild", vec![format!("8 9\n{c}"), format!("7, 6\n{c}")]),
        (OutputFormat::MmHal, "mmhal", vec![format!("{c}\nRating: 4"), format!("{c}\nrating: 2")]),
        (OutputFormat::MmVet, "mmvet", vec!["0.6".into(), "1.0".into()]),
        (
            OutputFormat::WildVision,
            "wildvision",
            vec![format!("{c}\nMy final verdict: [[B>A]]"), format!("{c} [[A=B]]")],
        ),
        (
            OutputFormat::DetailedCaption,
            "detailed_caption",
            vec![format!("{c}\nFinal Score: 78"), format!("{c}\nFinal Score: 41")],
        ),
    ]
}

#[derive(Debug, Serialize)]
pub struct ParseRate {
    pub format: &'static str,
    pub parses_per_s: f64,
    pub mb_per_s: f64,
}

#[derive(Debug, Serialize)]
pub struct CriticReport {
    pub parse: Vec<ParseRate>,
    pub items: usize,
    pub pearson_items_per_s: f64,
    pub spearman_items_per_s: f64,
    pub kendall_items_per_s: f64,
    pub accuracy_items_per_s: f64,
    pub battles: usize,
    pub elo_fit_s: f64,
    pub elo_battles_per_s: f64,
    pub bootstrap_rounds: usize,
    pub elo_bootstrap_s: f64,
}

fn timed<T>(f: impl FnOnce() -> T) -> (T, f64) {
    let t = Instant::now();
    let out = f();
    (out, t.elapsed().as_secs_f64())
}

/// A deterministic pseudo-random stream (no dependency needed for a benchmark's inputs).
fn lcg(state: &mut u64) -> u64 {
    *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    *state >> 33
}

pub fn run(args: &Args) -> anyhow::Result<CriticReport> {
    let mut parse = Vec::new();
    for (format, name, texts) in corpus() {
        let bytes: usize = (0..args.parses).map(|i| texts[i % texts.len()].len()).sum();
        let (_, s) = timed(|| {
            for i in 0..args.parses {
                black_box(critic::parse(format, black_box(&texts[i % texts.len()])));
            }
        });
        parse.push(ParseRate { format: name, parses_per_s: args.parses as f64 / s, mb_per_s: bytes as f64 / s / 1e6 });
    }
    let mut seed = 7u64;
    // scores on a 1..10 scale (many ties), labels correlated with them
    let x: Vec<f64> = (0..args.items).map(|_| (lcg(&mut seed) % 10) as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| v + (lcg(&mut seed) % 5) as f64).collect();
    let (_, pearson) = timed(|| black_box(metrics::pearson(&x, &y)));
    let (_, spearman) = timed(|| black_box(metrics::spearman(&x, &y)));
    let (_, kendall) = timed(|| black_box(metrics::kendall_tau_b(&x, &y)));
    let prefs = [Preference::First, Preference::Second, Preference::Tie];
    let pairs: Vec<(Option<Preference>, Preference)> = (0..args.items)
        .map(|_| (Some(prefs[(lcg(&mut seed) % 3) as usize]), prefs[(lcg(&mut seed) % 3) as usize]))
        .collect();
    let (_, accuracy) = timed(|| black_box(metrics::pairwise_accuracy(&pairs)));
    let models: Vec<String> = (0..12).map(|m| format!("model-{m}")).collect();
    let battles: Vec<Battle> = (0..args.battles)
        .map(|_| {
            let a = (lcg(&mut seed) % 12) as usize;
            let b = (a + 1 + (lcg(&mut seed) % 11) as usize) % 12;
            // the lower-numbered model wins more often
            let r = lcg(&mut seed) % 100;
            let winner = if r < 10 {
                Winner::Tie
            } else if (r < 60) == (a < b) {
                Winner::A
            } else {
                Winner::B
            };
            Battle { model_a: &models[a], model_b: &models[b], winner }
        })
        .collect();
    let config = EloConfig::default();
    let (fit, elo_fit_s) = timed(|| metrics::mle_elo(&battles, &config));
    fit?;
    let bootstrap = Bootstrap { rounds: args.bootstrap, ..Bootstrap::default() };
    let (report, elo_bootstrap_s) = timed(|| metrics::elo_with_intervals(&battles, &config, &bootstrap));
    report?;
    let n = args.items as f64;
    Ok(CriticReport {
        parse,
        items: args.items,
        pearson_items_per_s: n / pearson,
        spearman_items_per_s: n / spearman,
        kendall_items_per_s: n / kendall,
        accuracy_items_per_s: n / accuracy,
        battles: args.battles,
        elo_fit_s,
        elo_battles_per_s: args.battles as f64 / elo_fit_s,
        bootstrap_rounds: args.bootstrap,
        elo_bootstrap_s,
    })
}

impl CriticReport {
    pub fn print(&self) {
        let mut rows: Vec<(String, String)> = self
            .parse
            .iter()
            .map(|p| (format!("parse {}", p.format), format!("{} ({:.0} MB/s)", rate(p.parses_per_s), p.mb_per_s)))
            .collect();
        rows.push((format!("pearson, {} items", self.items), rate(self.pearson_items_per_s)));
        rows.push((format!("spearman, {} items", self.items), rate(self.spearman_items_per_s)));
        rows.push((format!("kendall tau-b, {} items", self.items), rate(self.kendall_items_per_s)));
        rows.push((format!("pairwise accuracy, {} items", self.items), rate(self.accuracy_items_per_s)));
        rows.push((format!("MLE Elo fit, {} battles, 12 models", self.battles), secs(self.elo_fit_s)));
        rows.push((format!("Elo + {} bootstrap rounds", self.bootstrap_rounds), secs(self.elo_bootstrap_s)));
        let refs: Vec<(&str, String)> = rows.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        table("critic core, one thread", &refs);
    }
}
