//! Every metric against scipy on generated data with ties: Pearson = scipy.stats.pearsonr, Spearman =
//! spearmanr, Kendall tau-b = kendalltau, and the MLE Elo against a Bradley-Terry logistic regression
//! fitted with scipy.optimize (Chatbot Arena's design matrix and sample weights).

mod common;

use criticloop_critic as critic;

use common::{floats, run_python};
use critic::metrics::{
    Anchor, Battle, EloConfig, MetricError, SplitMix64, Winner, kendall_tau_b, mle_elo, pearson, ranking_kendall,
    spearman,
};
use serde_json::json;
use std::collections::BTreeMap;

const CORRELATIONS: &str = r#"
import json, sys
from scipy import stats
cases = json.load(open(sys.argv[1]))["cases"]
out = {"pearson": [], "spearman": [], "kendall": []}
for c in cases:
    x, y = c["x"], c["y"]
    out["pearson"].append(float(stats.pearsonr(x, y).statistic))
    out["spearman"].append(float(stats.spearmanr(x, y).statistic))
    out["kendall"].append(float(stats.kendalltau(x, y, variant="b").statistic))
print(json.dumps(out))
"#;

/// Data with many ties: values on coarse grids, y correlated with x (positively or negatively).
fn generated_cases() -> Vec<(Vec<f64>, Vec<f64>)> {
    let mut rng = SplitMix64::new(20240917);
    let mut cases = Vec::new();
    for (n, sign) in [(3usize, 1.0), (5, -1.0), (10, 1.0), (31, -1.0), (57, 1.0), (200, 1.0), (1000, -1.0), (2500, 1.0)]
    {
        loop {
            let x: Vec<f64> = (0..n).map(|_| rng.below(7) as f64 * 0.5).collect();
            let y: Vec<f64> =
                x.iter().map(|v| sign * 0.7 * v + rng.below(5) as f64 + 10.0 * rng.next_f64().round()).collect();
            let constant = |v: &[f64]| v.iter().all(|a| *a == v[0]);
            if !constant(&x) && !constant(&y) {
                cases.push((x, y));
                break;
            }
        }
    }
    // continuous data without ties, and scores on a 1-10 scale like LLaVA-W's
    let x: Vec<f64> = (0..300).map(|_| rng.next_f64() * 100.0).collect();
    let y: Vec<f64> = x.iter().map(|v| v * 0.3 + rng.next_f64() * 40.0).collect();
    cases.push((x, y));
    let x: Vec<f64> = (0..120).map(|_| 1.0 + rng.below(10) as f64).collect();
    let y: Vec<f64> = x.iter().map(|v| (v + rng.below(3) as f64 - 1.0).clamp(1.0, 10.0)).collect();
    cases.push((x, y));
    cases
}

fn assert_close(name: &str, ours: &[f64], theirs: &[f64], tol: f64) {
    assert_eq!(ours.len(), theirs.len(), "{name}: count");
    for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
        assert!((a - b).abs() <= tol, "{name} case {i}: ours {a} vs scipy {b} (diff {:e})", (a - b).abs());
    }
}

#[test]
fn metrics_scipy_correlations_match_with_ties() {
    let cases = generated_cases();
    let input = json!({ "cases": cases.iter().map(|(x, y)| json!({"x": x, "y": y})).collect::<Vec<_>>() });
    let scipy = run_python("correlations", CORRELATIONS, &input);

    let ours = |f: fn(&[f64], &[f64]) -> Result<f64, MetricError>| -> Vec<f64> {
        cases.iter().map(|(x, y)| f(x, y).expect("defined on these cases")).collect()
    };
    assert_close("pearson", &ours(pearson), &floats(&scipy["pearson"]), 1e-9);
    assert_close("spearman", &ours(spearman), &floats(&scipy["spearman"]), 1e-9);
    assert_close("kendall tau-b", &ours(kendall_tau_b), &floats(&scipy["kendall"]), 1e-9);
}

#[test]
fn metrics_scipy_undefined_where_scipy_is_nan() {
    let input = json!({ "cases": [{"x": [1.0, 1.0, 1.0], "y": [1.0, 2.0, 3.0]}] });
    let script = CORRELATIONS.replace("float(", "str(");
    let scipy = run_python("constant", &script, &input);
    for name in ["pearson", "spearman", "kendall"] {
        assert_eq!(scipy[name][0].as_str(), Some("nan"), "scipy gives NaN for {name} on constant input");
    }
    let (x, y) = ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0]);
    assert_eq!(pearson(&x, &y), Err(MetricError::Constant));
    assert_eq!(spearman(&x, &y), Err(MetricError::Constant));
    assert_eq!(kendall_tau_b(&x, &y), Err(MetricError::Constant));
    assert_eq!(pearson(&[1.0], &[2.0]), Err(MetricError::TooFew { got: 1, need: 2 }));
    assert_eq!(pearson(&[1.0, 2.0], &[2.0]), Err(MetricError::LengthMismatch { left: 2, right: 1 }));
    assert_eq!(pearson(&[1.0, f64::NAN], &[2.0, 3.0]), Err(MetricError::NonFinite));
}

#[test]
fn metrics_scipy_model_ranking_kendall() {
    let a: BTreeMap<String, f64> =
        [("gpt-4o", 9.1), ("llava-ov-7b", 7.2), ("llava-1.5", 5.0), ("qwen-vl", 7.2), ("only-in-a", 1.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    let b: BTreeMap<String, f64> =
        [("gpt-4o", 1200.0), ("llava-ov-7b", 1010.0), ("llava-1.5", 900.0), ("qwen-vl", 1050.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
    let ours = ranking_kendall(&a, &b).expect("four shared models");
    assert_eq!((ours.models, ours.left_out), (4, 1));
    // shared models in name order: gpt-4o, llava-1.5, llava-ov-7b, qwen-vl
    let input = json!({ "cases": [{"x": [9.1, 5.0, 7.2, 7.2], "y": [1200.0, 900.0, 1010.0, 1050.0]}] });
    let scipy = run_python("ranking", CORRELATIONS, &input);
    assert_close("ranking kendall", &[ours.tau], &floats(&scipy["kendall"]), 1e-9);
}

const ELO: &str = r#"
import json, sys, math
import numpy as np
from scipy.optimize import minimize, root
from scipy.special import expit, log_expit

cases = json.load(open(sys.argv[1]))["cases"]
out = []
for case in cases:
    battles = case["battles"]
    models = sorted({b[0] for b in battles} | {b[1] for b in battles})
    idx = {m: i for i, m in enumerate(models)}
    p = len(models)
    # Chatbot Arena's compute_mle_elo: wins count twice, ties once each way
    W = np.zeros((p, p))
    for a, b, w in battles:
        if w == "model_a":
            W[idx[a], idx[b]] += 2
        elif w == "model_b":
            W[idx[b], idx[a]] += 2
        else:
            W[idx[a], idx[b]] += 1
            W[idx[b], idx[a]] += 1
    X, Y, sw = [], [], []
    for i in range(p):
        for j in range(p):
            if i == j:
                continue
            row = np.zeros(p)
            row[i], row[j] = math.log(10), -math.log(10)
            X.append(row); Y.append(1.0); sw.append(W[i, j])
            X.append(row); Y.append(0.0); sw.append(W[j, i])
    X, Y, sw = np.array(X), np.array(Y), np.array(sw)
    # logistic regression without intercept or penalty; the last coefficient is pinned at 0 to remove
    # the shift freedom, then the ratings are anchored
    Xr = X[:, :-1]
    def nll(beta):
        z = Xr @ beta
        return -np.sum(sw * (Y * log_expit(z) + (1 - Y) * log_expit(-z)))
    def grad(beta):
        return -Xr.T @ (sw * (Y - expit(Xr @ beta)))
    def hess(beta):
        s = expit(Xr @ beta)
        return Xr.T @ (Xr * (sw * s * (1 - s))[:, None])
    res = minimize(nll, np.zeros(p - 1), jac=grad, hess=hess, method="trust-exact",
                   options={"gtol": 1e-11, "maxiter": 10000})
    # trust-exact stops once its model stops predicting improvement (gradient ~1e-10); polish the
    # first-order condition grad = 0 with MINPACK's hybrid Powell method and the exact Jacobian
    polished = root(grad, res.x, jac=hess, method="hybr", options={"xtol": 1e-15})
    # (hybr may report "not making good progress" when it starts at the solution: keep the better point)
    beta = min((polished.x, res.x), key=lambda b: np.max(np.abs(grad(b))))
    elo = 400 * np.append(beta, 0.0) + 1000
    if case["anchor"] is None:
        elo += 1000 - elo.mean()
    else:
        elo += 1000 - elo[idx[case["anchor"]]]
    out.append({"models": models, "elo": elo.tolist(), "grad": float(np.max(np.abs(grad(beta))))})
print(json.dumps(out))
"#;

/// (model_a, model_b, winner)
type GeneratedBattle = (String, String, Winner);

/// Battles among `p` models with latent strengths; about a fifth are ties.
fn generated_battles(rng: &mut SplitMix64, p: usize, n: usize) -> Vec<GeneratedBattle> {
    let strength: Vec<f64> = (0..p).map(|i| i as f64 * 0.35 + rng.next_f64() * 0.3).collect();
    (0..n)
        .map(|_| {
            let a = rng.below(p);
            let mut b = rng.below(p - 1);
            if b >= a {
                b += 1;
            }
            let p_a = 1.0 / (1.0 + (-(strength[a] - strength[b])).exp());
            let u = rng.next_f64();
            let winner = if u < 0.2 {
                Winner::Tie
            } else if rng.next_f64() < p_a {
                Winner::A
            } else {
                Winner::B
            };
            (format!("model-{a:02}"), format!("model-{b:02}"), winner)
        })
        .collect()
}

#[test]
fn metrics_scipy_elo_mle_matches_logistic_regression() {
    let mut rng = SplitMix64::new(7);
    let cases: Vec<(Vec<GeneratedBattle>, Option<&str>)> = vec![
        (generated_battles(&mut rng, 2, 40), None),
        (generated_battles(&mut rng, 4, 300), None),
        (generated_battles(&mut rng, 8, 2000), None),
        (generated_battles(&mut rng, 12, 5000), Some("model-03")),
        (generated_battles(&mut rng, 5, 120), Some("model-00")),
    ];
    let input = json!({
        "cases": cases.iter().map(|(battles, anchor)| json!({
            "anchor": anchor,
            "battles": battles.iter().map(|(a, b, w)| json!([a, b, match w {
                Winner::A => "model_a",
                Winner::B => "model_b",
                Winner::Tie => "tie",
            }])).collect::<Vec<_>>(),
        })).collect::<Vec<_>>()
    });
    let scipy = run_python("elo", ELO, &input);

    for (n, (battles, anchor)) in cases.iter().enumerate() {
        let battles: Vec<Battle<'_>> =
            battles.iter().map(|(a, b, w)| Battle { model_a: a, model_b: b, winner: *w }).collect();
        let config =
            EloConfig { anchor: anchor.map_or(Anchor::Mean, |m| Anchor::Model(m.to_owned())), ..EloConfig::default() };
        let ours = mle_elo(&battles, &config).expect("connected battles");
        let theirs = &scipy[n];
        let models: Vec<&str> =
            theirs["models"].as_array().expect("models").iter().filter_map(|m| m.as_str()).collect();
        assert_eq!(ours.keys().map(String::as_str).collect::<Vec<_>>(), models, "case {n}: models");
        // Both sides solve the MLE to convergence (Newton in Rust; in Python scipy's trust-exact with
        // the exact Hessian, polished by scipy.optimize.root on the gradient), so they agree to 1e-9
        // Elo points. trust-exact alone stops at a gradient of ~1e-10, a few 1e-8 Elo points off.
        let ours: Vec<f64> = ours.values().copied().collect();
        assert_close(&format!("elo case {n}"), &ours, &floats(&theirs["elo"]), 1e-9);
    }
}
