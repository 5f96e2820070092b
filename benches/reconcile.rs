//! Reconcile throughput: wall time from an empty simulated cluster
//! (`instant` profile, virtual clock, nodes Ready) to every object of a
//! generated repository applied and Ready, through the `direct` bootstrap
//! and through emulated Flux, for 100, 1,000 and 10,000 ConfigMaps
//! (`SynthSpec::config_maps(n, 0)`: one namespace, every object under the
//! cluster path, so each method applies them in one pass).
//!
//! Timed: for `direct`, the bootstrap until its first reconciliation
//! finished (git fetch over HTTP, render, apply); for Flux, the bootstrap
//! (install, `flux-system` GitRepository and Kustomization) until the
//! Kustomization is Ready at the head revision. Not timed: starting the
//! cluster and generating and serving the repository. After each run the
//! ConfigMaps are counted in the store. A ConfigMap is Ready once it
//! exists, so "applied and Ready" is one event per object here; the
//! flux_benchmark bench covers objects with health checks.
//!
//! `cargo bench --bench reconcile`; criterion reports objects/s as
//! elements/s; each line `reconcile/<method>/<n>` gives the median.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::gitops::bootstrap::direct::{self, DirectConfig};
use gameday::gitops::synth::SynthSpec;
use gameday::scenario::model::DirectSettings;
use gameday::sim::Gvr;
use gameday::sim::Profile;
use support::{Samples, Served};

const SIZES: [usize; 3] = [100, 1_000, 10_000];

#[derive(Debug, Clone, Copy)]
enum Method {
    Direct,
    Flux,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Direct => "direct",
            Method::Flux => "flux",
        }
    }
}

/// One run on a fresh cluster; returns the timed part.
async fn reconcile(method: Method, served: &Served, samples: &Samples) -> Duration {
    let cluster = support::sim("bench", Profile::instant()).await;
    let flux = match method {
        Method::Flux => Some(cluster.enable_flux(Default::default()).await.expect("flux")),
        Method::Direct => None,
    };
    let applier = support::applier(&cluster).await;
    let took = match method {
        Method::Direct => {
            let config = DirectConfig::from_settings(&DirectSettings {
                interval: Duration::from_secs(600),
                prune: true,
                concurrency: 16,
                namespace: "default".into(),
            });
            let (reconciler, took) = support::timed(
                samples,
                direct::bootstrap(
                    &applier,
                    served.source(),
                    config,
                    &[],
                    Duration::from_secs(600),
                ),
            )
            .await;
            reconciler.expect("direct bootstrap").stop().await;
            took
        }
        Method::Flux => {
            let (_, took) =
                support::timed(samples, support::flux_bootstrap(&applier, served)).await;
            took
        }
    };
    let ns = &served.summary.namespaces[0];
    let count = cluster
        .store()
        .list(&Gvr::core("configmaps"), Some(ns), &Default::default())
        .expect("list")
        .items
        .iter()
        .filter(|c| {
            c["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("cm-"))
        })
        .count();
    assert_eq!(count, served.summary.objects, "every ConfigMap applied");
    drop(flux);
    cluster.shutdown().await;
    took
}

fn bench(c: &mut Criterion) {
    support::print_machine("reconcile");
    let rt = support::runtime();
    let mut group = c.benchmark_group("reconcile");
    support::slow_group(&mut group, 10, 5);
    let mut lines = Vec::new();
    for n in SIZES {
        let served = rt.block_on(Served::new(&SynthSpec::config_maps(n, 0)));
        group.throughput(Throughput::Elements(n as u64));
        for method in [Method::Direct, Method::Flux] {
            let samples = Samples::default();
            group.bench_with_input(BenchmarkId::new(method.name(), n), &n, |b, _| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (served, samples) = (&served, samples.clone());
                    async move {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            total += reconcile(method, served, &samples).await;
                        }
                        total
                    }
                });
            });
            lines.push((format!("reconcile/{}/{n}", method.name()), samples, n));
        }
    }
    group.finish();
    for (label, samples, n) in lines {
        samples.report(&label, n, "objects");
    }
}

criterion_group! {
    name = benches;
    // No plots: a quick pass of a multi-second bench has one sample, which
    // criterion's plotting cannot draw; the figures are the printed lines.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
