//! Time from an empty simulated cluster to the `podinfo` repository Ready
//! with Flux emulated (every Kustomization Ready at the head revision):
//! wall time with the `instant` profile, and — printed once — simulated and
//! wall time with the `kind` profile.
//!
//! Each iteration starts a fresh cluster, waits for its nodes (as `kind
//! create cluster --wait` does), serves a fresh copy of the fixture, then
//! measures the bootstrap: installing Flux from the
//! simulator's manifests, the sync objects, and the wait until
//! `flux-system`, `infrastructure` and `apps` are Ready.

#![allow(missing_docs, clippy::print_stdout)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::clock::{self, Clock};
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::kstatus::{Health, kustomization};
use gameday::scenario::model::FluxSettings;
use gameday::sim::Profile;
use gameday::sim::storage::store::{EventFilter, Gvr, ObjectRef};
use gameday::sim::{SimCluster, SimOptions};

fn fixture() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/repos/podinfo"
    ))
}

/// Bootstraps podinfo on a fresh cluster; returns (wall, simulated) time
/// from the empty cluster to every Kustomization Ready.
async fn podinfo_ready(profile: Profile) -> (Duration, Duration) {
    let cluster = SimCluster::start(SimOptions {
        profile,
        ..SimOptions::new(
            "bench",
            Clock::simulated("2026-08-01T10:00:00Z".parse().unwrap()),
        )
    })
    .await
    .unwrap();
    let emulation = cluster.enable_flux(Default::default()).await.unwrap();
    let repo = Repo::from_fixture(&fixture(), &FixtureOptions::default())
        .await
        .unwrap();
    let server = GitServer::serve(repo.path(), "podinfo", ServeOptions::default())
        .await
        .unwrap();
    let head = repo.head().await.unwrap().to_string();
    let applier = Applier::new(
        cluster.client().await.unwrap(),
        cluster.clock().clone(),
        ApplyOptions::default(),
    );
    let cfg = FluxBootstrap::simulated(
        &FluxSettings {
            manifests: None,
            interval: Duration::from_secs(60),
        },
        &[],
    );
    let source = SyncSource {
        url: server.url(),
        reference: GitRef::branch("main"),
        path: "clusters/staging".into(),
        artifact: None,
    };
    let store = cluster.store().clone();
    let clock = cluster.clock().clone();
    // An empty cluster: its nodes Ready, as after `kind create cluster --wait`.
    let nodes_ready = |store: &gameday::sim::Store| {
        store
            .list(&Gvr::core("nodes"), None, &Default::default())
            .is_ok_and(|l| {
                l.items.iter().all(|n| {
                    gameday::sim::storage::store::conditions::condition_status(n, "Ready")
                        == Some("True")
                })
            })
    };
    {
        let mut sub = store.subscribe(EventFilter::all());
        while !nodes_ready(&store) {
            drop(sub.recv().await.unwrap().busy);
        }
    }
    // The harness holds simulated time still while it acts; the bootstrap
    // lets it run while it waits.
    let busy = clock.busy();
    let wall = Instant::now();
    let start = clock.now();
    let running = flux::bootstrap(&applier, &cfg, &source, &head);
    drop(busy);
    running.await.unwrap();
    let gvr = Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
    let ready = |store: &gameday::sim::Store| {
        ["flux-system", "infrastructure", "apps"].iter().all(|n| {
            store
                .get(&ObjectRef::namespaced(gvr.clone(), "flux-system", n))
                .is_ok_and(|k| kustomization(&k, Some(&head)) == Health::Ready)
        })
    };
    // Subscribe only now: undelivered events hold simulated time still.
    let mut sub = store.subscribe(EventFilter::all());
    let ready_at = {
        let busy = clock.busy();
        if ready(&store) {
            clock.now()
        } else {
            drop(busy);
            loop {
                let d = sub.recv().await.unwrap();
                if ready(&store) {
                    break clock.now();
                }
                drop(d.busy);
            }
        }
    };
    let took = (wall.elapsed(), clock::duration_between(start, ready_at));
    drop(emulation);
    cluster.shutdown().await;
    took
}

fn bootstrap(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (wall, simulated) = rt.block_on(podinfo_ready(Profile::kind()));
    println!(
        "podinfo with the kind profile: Ready after {} simulated, {:.0} ms wall",
        humantime::format_duration(Duration::from_millis(simulated.as_millis() as u64)),
        wall.as_secs_f64() * 1000.0
    );
    let mut group = c.benchmark_group("bootstrap");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(30));
    group.bench_function("podinfo_flux_instant", |b| {
        b.to_async(&rt).iter_custom(|iters| async move {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += podinfo_ready(Profile::instant()).await.0;
            }
            total
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: a quick pass of a multi-second bench has one sample, which
    // criterion's plotting cannot draw; the figures are the printed lines.
    config = Criterion::default().without_plots();
    targets = bootstrap
}
criterion_main!(benches);
