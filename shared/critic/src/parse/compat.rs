//! The benchmarks' own lenient rules, defaults included, for reproducing their reported numbers.
//! criticloop's pipeline uses [`crate::parse()`], which reports unparsed text instead of defaulting.

use super::number::token_number;

/// LLaVA-in-the-Wild / LLaVA-Wilder: first line, `,`/`;` -> space, the first two numbers; otherwise
/// `[-1.0, -1.0]`. No range check and no markdown handling, as in the benchmark.
pub fn llava_bench_scores(text: &str) -> [f64; 2] {
    let line = text.split('\n').next().unwrap_or_default().replace([',', ';'], " ");
    let nums: Vec<f64> = line.split_whitespace().filter_map(token_number).take(2).collect();
    match nums[..] {
        [a, b] => [a, b],
        _ => [-1.0, -1.0],
    }
}

/// MMHal-Bench: the s in 0..=6 for which `rating: s` occurs in the lowercased text, if exactly one
/// does; otherwise 0 (substring semantics, so "rating: 10" counts as 1, as in the benchmark).
pub fn mmhal_rating(text: &str) -> u8 {
    let lower = text.to_lowercase();
    let found: Vec<u8> = (0..=6u8).filter(|s| lower.contains(&format!("rating: {s}"))).collect();
    match found[..] {
        [s] => s,
        _ => 0,
    }
}

/// MM-Vet: the first space-separated token as a float in [0, 1]; otherwise 0.0 (the benchmark retries
/// the judge a few times and then records 0.0).
pub fn mmvet_score(text: &str) -> f64 {
    text.split(' ').next().map(str::trim).and_then(token_number).filter(|v| (0.0..=1.0).contains(v)).unwrap_or(0.0)
}

/// WildVision-Bench: exactly one distinct `[[...]]` verdict mapped to -2..=2, anything else (no match,
/// several, an unknown label) "unclear", scored 0 like a tie.
pub fn wildvision_score(text: &str) -> i8 {
    let mut labels = super::wildvision::matches(text);
    labels.sort_unstable();
    labels.dedup();
    match labels[..] {
        [label] => match label {
            "A>>B" => -2,
            "A>B" => -1,
            "B>A" => 1,
            "B>>A" => 2,
            _ => 0,
        },
        _ => 0,
    }
}
