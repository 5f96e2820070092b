//! Same seed, same simulated durations; another seed, other durations.
//! (Wall-clock speed is measured by `benches/sim_lifecycle.rs`, not here.)

use std::time::Duration;

use gameday::clock::Clock;
use gameday::sim::Profile;
use gameday::sim::storage::store::DeleteOptions;
use gameday::sim::{Gvr, ObjectRef, SimCluster, SimOptions};

use super::*;

/// Simulated phase durations of a small drill on the kind profile:
/// provision a 3-node cluster, wait for its nodes, roll out a Deployment
/// with a readiness probe, delete its namespace, recreate it.
async fn drill(seed: u64) -> Vec<Duration> {
    let clock = Clock::simulated(epoch());
    let profile = Profile::kind();
    let t0 = clock.now();
    drop(
        clock
            .sleep(profile.cluster_create_duration(seed, "drill", 3))
            .await,
    );
    let c = SimCluster::start(SimOptions {
        tls: false,
        profile,
        nodes: 3,
        seed,
        ..SimOptions::new("drill", clock.clone())
    })
    .await
    .unwrap();
    let s = c.store();
    let provisioned = clock.now();
    let mut ready_at = provisioned;
    for n in ["drill-control-plane", "drill-worker", "drill-worker2"] {
        let (_, t) = wait_for(s, &ObjectRef::cluster(Gvr::core("nodes"), n), |n| {
            cond(n, "Ready").is_some_and(|c| c["status"] == "True")
        })
        .await;
        ready_at = ready_at.max(t);
    }
    let rollout = |s: &gameday::sim::Store| {
        namespace(s, "app");
        create(
            s,
            &deployments(),
            "app",
            deployment("web", 3, "ghcr.io/stefanprodan/podinfo:6.7.1"),
        );
    };
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    rollout(s);
    let (_, available) = wait_for(s, &d_ref, rolled_out).await;
    let ns = ObjectRef::cluster(Gvr::core("namespaces"), "app");
    s.delete(&ns, &DeleteOptions::default()).unwrap();
    let mut sub = s.subscribe(gameday::sim::storage::store::EventFilter::resource(
        gameday::sim::GroupResource::new("", "namespaces"),
    ));
    while s.get(&ns).is_ok() {
        drop(sub.recv().await);
    }
    // An undrained subscription would hold the clock: drop it.
    drop(sub);
    let deleted = clock.now();
    rollout(s);
    let (_, recovered) = wait_for(s, &d_ref, rolled_out).await;
    c.shutdown().await;
    vec![
        between(t0, provisioned),
        between(provisioned, ready_at),
        between(ready_at, available),
        between(available, deleted),
        between(deleted, recovered),
        between(t0, recovered),
    ]
}

fn within_2_percent(a: Duration, b: Duration) -> bool {
    let (a, b) = (a.as_secs_f64(), b.as_secs_f64());
    (a - b).abs() <= 0.02 * a.max(b)
}

#[tokio::test]
async fn same_seed_same_simulated_durations_other_seed_other_durations() {
    let first = drill(42).await;
    let second = drill(42).await;
    let other = drill(43).await;
    assert!(
        first
            .iter()
            .zip(&second)
            .all(|(a, b)| within_2_percent(*a, *b)),
        "seed 42 twice: {first:?} vs {second:?}"
    );
    assert_ne!(first, other, "seed 43 gave the same durations as 42");
    // Every phase took the simulated time the kind profile gives it.
    assert!(
        first[0] >= Duration::from_secs(16),
        "provisioning {:?}",
        first[0]
    );
    assert!(
        first[1] >= Duration::from_secs(10),
        "nodes ready {:?}",
        first[1]
    );
    assert!(first[2] >= Duration::from_secs(5), "rollout {:?}", first[2]);
}
