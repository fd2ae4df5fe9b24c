//! kill -9 of generation, judging, reward and orchestrator, each at least twice at random moments of
//! a 200-prompt round; the round completes with lost = duplicated = unexpected = 0.

use criticloop_tests::{Cluster, ClusterOptions, Service, chaos};
use rand::{Rng, SeedableRng};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn chaos_kill_workers_and_orchestrator_twice_each() -> anyhow::Result<()> {
    let seed: u64 = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("chaos seed {seed} (set CHAOS_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut cluster = Cluster::start(chaos::slow(ClusterOptions::new("chaos_kill"))).await?;
    let pool = cluster.pool().await?;
    let id = chaos::start_round(&cluster).await?;

    let mut victims = Vec::new();
    for s in [Service::Generation, Service::Judging, Service::Reward, Service::Orchestrator] {
        victims.push(s);
        victims.push(s);
    }
    // shuffle
    for i in (1..victims.len()).rev() {
        let j = rng.random_range(0..=i);
        victims.swap(i, j);
    }
    let mut in_flight = 0;
    for victim in victims {
        tokio::time::sleep(Duration::from_millis(rng.random_range(100..400))).await;
        let (state, judgments) = chaos::snapshot(&pool).await?;
        cluster.kill(victim).await;
        eprintln!("kill -9 {:<12} round {state:<11} judgments {judgments}", victim.name());
        if matches!(state.as_str(), "sampling" | "judging" | "aggregating") {
            in_flight += 1;
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(50..250))).await;
        cluster.start_service(victim)?;
    }
    assert!(in_flight >= 4, "only {in_flight} kills hit the round while it was working; slow it down");
    chaos::verify(&cluster, &id, Duration::from_secs(240)).await?;
    for s in [Service::Generation, Service::Judging, Service::Reward, Service::Orchestrator] {
        assert_eq!(cluster.starts(s), 3, "{} started once and restarted twice", s.name());
    }
    pool.close().await;
    cluster.teardown().await
}
