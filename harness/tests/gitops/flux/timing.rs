//! Simulated time: the kind profile takes simulated minutes, and the same
//! seed gives the same simulated timings.

use std::time::Duration;

use gameday::sim::Profile;

use super::world::{World, ready};

/// Simulated time from an empty cluster to podinfo Ready, and the Ready
/// transition times of the Kustomizations.
async fn podinfo_timings() -> (Duration, Vec<String>) {
    let w = World::new("podinfo", Profile::kind()).await;
    w.wait_nodes_ready().await;
    let clock = w.tb.clock();
    let start = clock.now();
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    let ready_at = w
        .wait_kustomizations(
            &["flux-system", "infrastructure", "apps"],
            Duration::from_secs(3600),
        )
        .await;
    let took = gameday::clock::duration_between(start, ready_at);
    let mut marks = Vec::new();
    for name in ["flux-system", "infrastructure", "apps"] {
        let k = w.kustomization(name).await;
        assert_eq!(ready(&k).0, "True");
        let at = k["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == "Ready")
            .unwrap()["lastTransitionTime"]
            .as_str()
            .unwrap()
            .to_owned();
        marks.push(format!("{name}={at}"));
    }
    (took, marks)
}

#[tokio::test]
async fn the_kind_profile_takes_simulated_time_and_a_seed_repeats_it() {
    let (first, marks) = podinfo_timings().await;
    assert!(
        first > Duration::from_secs(5),
        "the kind profile's latencies show: {first:?}"
    );
    let (second, marks_again) = podinfo_timings().await;
    assert_eq!(first, second, "same seed, same simulated time");
    assert_eq!(marks, marks_again);
}
