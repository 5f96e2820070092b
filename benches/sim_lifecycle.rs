//! Wall time of simulated drills on the virtual clock.
//!
//! The sequence: provision a 3-node cluster (waiting the profile's
//! creation time on the clock), wait for the nodes, roll out a Deployment of
//! 3 replicas with a readiness probe, delete its namespace, recreate it and
//! wait for it again. On the `kind` profile this is about a simulated
//! minute, on `eks` about 17; both should take well under two seconds of
//! wall time. The simulated durations are printed once per profile (they do
//! not vary between iterations: same seed, same durations).

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::clock::{Clock, duration_between};
use gameday::sim::Profile;
use gameday::sim::storage::store::{DeleteOptions, EventFilter, WriteOptions};
use gameday::sim::{GroupResource, Gvr, ObjectRef, SimCluster, SimOptions, Store};
use serde_json::{Value, json};

fn ready(o: &Value, type_: &str) -> bool {
    o["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == type_ && c["status"] == "True")
}

fn rolled_out(d: &Value) -> bool {
    d["status"]["observedGeneration"] == d["metadata"]["generation"]
        && ready(d, "Available")
        && d["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "NewReplicaSetAvailable")
}

/// Waits until `r` satisfies `pred`, holding each event until checked.
async fn wait(store: &Store, r: &ObjectRef, pred: impl Fn(&Value) -> bool) {
    let mut sub = store.subscribe(EventFilter::resource(r.gvr.group_resource()));
    if store.get(r).is_ok_and(|o| pred(&o)) {
        return;
    }
    while let Some(d) = sub.recv().await {
        let o = &d.event.object;
        if o["metadata"]["name"] == r.name.as_str() && pred(o) {
            return;
        }
    }
}

fn setup(store: &Store) {
    let w = WriteOptions::manager("bench");
    store
        .create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": "app"}}),
            &w,
        )
        .unwrap();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": "ghcr.io/stefanprodan/podinfo:6.7.1",
                    "readinessProbe": {"httpGet": {"path": "/readyz", "port": 9898}, "initialDelaySeconds": 5}}]}}}});
    store
        .create(&Gvr::new("apps", "v1", "deployments"), Some("app"), d, &w)
        .unwrap();
}

/// One drill; returns its simulated duration.
async fn drill(profile: &Profile, seed: u64) -> Duration {
    let start: jiff::Timestamp = "2026-03-01T09:00:00Z".parse().unwrap();
    let clock = Clock::simulated(start);
    drop(
        clock
            .sleep(profile.cluster_create_duration(seed, "bench", 3))
            .await,
    );
    let c = SimCluster::start(SimOptions {
        tls: false,
        profile: profile.clone(),
        nodes: 3,
        seed,
        ..SimOptions::new("bench", clock.clone())
    })
    .await
    .unwrap();
    let s = c.store().clone();
    for n in ["bench-control-plane", "bench-worker", "bench-worker2"] {
        wait(&s, &ObjectRef::cluster(Gvr::core("nodes"), n), |n| {
            ready(n, "Ready")
        })
        .await;
    }
    let d = ObjectRef::namespaced(Gvr::new("apps", "v1", "deployments"), "app", "web");
    setup(&s);
    wait(&s, &d, rolled_out).await;
    let ns = ObjectRef::cluster(Gvr::core("namespaces"), "app");
    let mut sub = s.subscribe(EventFilter::resource(GroupResource::new("", "namespaces")));
    s.delete(&ns, &DeleteOptions::default()).unwrap();
    while s.get(&ns).is_ok() {
        drop(sub.recv().await);
    }
    drop(sub);
    setup(&s);
    wait(&s, &d, rolled_out).await;
    c.shutdown().await;
    duration_between(start, clock.now())
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("sim_lifecycle");
    group.sample_size(10);
    for profile in [Profile::kind(), Profile::eks()] {
        let wall = Instant::now();
        let simulated = rt.block_on(drill(&profile, 1));
        report(&profile.name, simulated, wall.elapsed());
        group.bench_function(format!("drill_{}", profile.name), |b| {
            b.to_async(&rt).iter(|| drill(&profile, 1));
        });
    }
    group.finish();
}

/// Benchmarks report their figures on stdout.
#[allow(clippy::print_stdout)]
fn report(profile: &str, simulated: Duration, wall: Duration) {
    println!(
        "sim_lifecycle/{profile}: simulated {} in {:.0} ms of wall time",
        humantime::format_duration(simulated),
        wall.as_secs_f64() * 1000.0
    );
}

criterion_group! {
    name = benches;
    // No plots: a quick pass of a multi-second bench has one sample, which
    // criterion's plotting cannot draw; the figures are the printed lines.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
