//! One HelmRelease install by the emulated helm-controller, the real helm
//! doing the Helm work: from the HelmRelease applied to it `Ready` (its
//! HelmChart packaged from the Git chart, `helm upgrade --install` against
//! the simulator, the release's Deployment, Service and ConfigMap healthy
//! on the simulated clock). The chart is `fixtures/repos/helm`'s
//! `charts/hello` (three objects and a ConfigMap-driven Deployment).
//!
//! Setup once: a simulated cluster (`instant` profile, virtual clock) with
//! Flux bootstrapped from `fixtures/repos/helm` (`clusters/staging`, whose
//! two releases are installed first). Then each iteration applies one new
//! HelmRelease (its own target namespace) and waits until it is Ready —
//! 50 of them in a full pass. Printed: the median wall time per install and
//! the median simulated time (Ready's transition minus the HelmRelease's
//! creation, on the cluster's clock).
//!
//! Needs helm (`make tools`); without it the bench says so and measures
//! nothing.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::scenario::model::FluxSettings;
use gameday::sim::storage::store::{EventFilter, conditions};
use gameday::sim::{GroupResource, ObjectRef, Profile, SimCluster, Store};
use serde_json::{Value, json};
use support::Samples;

/// Releases in a full pass.
const RELEASES: usize = 50;

struct World {
    cluster: SimCluster,
    _flux: gameday::sim::flux::FluxEmulation,
    _server: GitServer,
    _repo: Repo,
    next: usize,
}

async fn world() -> World {
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/repos/helm");
    let repo = Repo::from_fixture(&fixture, &FixtureOptions::default())
        .await
        .expect("fixture repository");
    let server = GitServer::serve(repo.path(), "helm", ServeOptions::default())
        .await
        .expect("git server");
    let cluster = support::sim("helm-bench", Profile::instant()).await;
    let flux_emulation = cluster.enable_flux(Default::default()).await.expect("flux");
    let applier = support::applier(&cluster).await;
    let head = repo.head().await.expect("head").to_string();
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
    };
    flux::bootstrap(&applier, &cfg, &source, &head)
        .await
        .expect("flux bootstrap");
    World {
        cluster,
        _flux: flux_emulation,
        _server: server,
        _repo: repo,
        next: 0,
    }
}

fn ready(o: &Value) -> bool {
    conditions::condition_status(o, "Ready") == Some("True")
}

/// Applies HelmRelease `rel-<n>` and waits until it is Ready; returns the
/// simulated time it took.
async fn install(store: &Store, n: usize) -> Duration {
    let name = format!("rel-{n}");
    let gvr = gameday::sim::flux::helm::gvr();
    let r = ObjectRef::namespaced(gvr, "flux-system", &name);
    let hr = json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": "flux-system"},
        "spec": {"interval": "10m", "targetNamespace": format!("bench-{n}"),
            "install": {"createNamespace": true},
            "chart": {"spec": {"chart": "./charts/hello",
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}}});
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new(
        "helm.toolkit.fluxcd.io",
        "helmreleases",
    )));
    let start = store.clock().now();
    store
        .apply(&r, hr, "bench", true)
        .expect("HelmRelease applied");
    loop {
        if let Ok(o) = store.get(&r)
            && ready(&o)
        {
            let at: jiff::Timestamp = o["status"]["conditions"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
                .and_then(|c| c["lastTransitionTime"].as_str())
                .and_then(|t| t.parse().ok())
                .expect("Ready has a transition time");
            return at.duration_since(start).unsigned_abs().max(Duration::ZERO);
        }
        if let Ok(Some(d)) = tokio::time::timeout(Duration::from_secs(5), sub.recv()).await {
            drop(d.busy);
        }
    }
}

fn bench(c: &mut Criterion) {
    support::print_machine("helm_release");
    if gameday::process::Lookup::default().find("helm").is_err() {
        println!("helm_release: SKIPPED, helm is not installed (make tools)");
        return;
    }
    let rt = support::runtime();
    let world = Arc::new(Mutex::new(Some(rt.block_on(world()))));
    let wall = Samples::default();
    let simulated = Samples::default();
    let mut group = c.benchmark_group("helm_release");
    support::slow_group(&mut group, support::pick(RELEASES, 10), 30);
    group.bench_function("install", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (world, wall, simulated) = (world.clone(), wall.clone(), simulated.clone());
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (store, n) = {
                        let mut w = world.lock().expect("world");
                        let w = w.as_mut().expect("world");
                        w.next += 1;
                        (w.cluster.store().clone(), w.next)
                    };
                    let t = Instant::now();
                    let sim = install(&store, n).await;
                    let took = t.elapsed();
                    wall.record(took);
                    simulated.record(sim);
                    total += took;
                }
                total
            }
        });
    });
    group.finish();
    let m = wall.report("helm_release/install (wall)", 1, "releases");
    if !m.is_zero() {
        println!(
            "helm_release/install: {} releases, median wall {} ms, median simulated {} ms",
            wall.sorted().len(),
            support::ms(m),
            support::ms(simulated.median()),
        );
    }
    if let Some(w) = world.lock().expect("world").take() {
        rt.block_on(w.cluster.shutdown());
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
