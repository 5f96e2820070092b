//! Apply engine throughput against the simulator (instant profile,
//! in-process, over HTTPS): objects per second for a batch of 1,000 and of
//! 10,000 new ConfigMaps (each iteration into a fresh namespace), and for
//! re-applying 1,000 unchanged ones.
//!
//! Each created batch's namespace is deleted after the iteration (not
//! timed), so every iteration starts from the same store.
//!
//! Target (issue 4): 1,000 ConfigMaps in well under a second (release).
//! Criterion prints the throughput as elements/s; the apply engine against
//! kubectl and the server's limit is bench `apply_vs_kubectl`.

#![allow(missing_docs)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions, Manifest};
use gameday::sim::{SimCluster, SimOptions};
use serde_json::json;

fn batch(ns: &str, n: usize) -> Vec<Manifest> {
    let mut out = vec![Manifest::new(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
    )];
    out.extend((0..n).map(|i| {
        Manifest::new(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cm-{i:05}"), "namespace": ns, "labels": {"app": "bench"}},
            "data": {"key": "value", "index": i.to_string()}}))
    }));
    out
}

fn apply(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cluster, applier) = rt.block_on(async {
        let cluster = SimCluster::start(SimOptions::new("bench", Clock::wall()))
            .await
            .unwrap();
        let applier = Applier::new(
            cluster.client().await.unwrap(),
            cluster.clock().clone(),
            ApplyOptions::default(),
        );
        (cluster, applier)
    });
    let mut group = c.benchmark_group("apply");
    support::slow_group(&mut group, 10, 20);
    let mut round = 0u64;
    for n in [1_000usize, 10_000] {
        group.throughput(Throughput::Elements(n as u64 + 1));
        group.bench_with_input(BenchmarkId::new("create_configmaps", n), &n, |b, &n| {
            b.to_async(&rt).iter_custom(|iters| {
                let (applier, store) = (applier.clone(), cluster.store().clone());
                let first = round;
                round += iters;
                async move {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let ns = format!("b{}", first + i);
                        let manifests = batch(&ns, n);
                        let t = Instant::now();
                        let report = applier.apply(manifests).await;
                        total += t.elapsed();
                        assert!(report.is_ok());
                        support::delete_namespace(&store, &ns).await;
                    }
                    total
                }
            });
        });
    }
    let fixed = batch("unchanged", 1_000);
    rt.block_on(applier.apply(fixed.clone()));
    group.throughput(Throughput::Elements(fixed.len() as u64));
    group.bench_function("unchanged_configmaps/1000", |b| {
        b.to_async(&rt).iter(|| {
            let (applier, manifests) = (applier.clone(), fixed.clone());
            async move {
                let report = applier.apply(manifests).await;
                assert_eq!(report.count("unchanged"), report.outcomes.len());
            }
        });
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // No plots: a quick pass of a multi-second bench has one sample, which
    // criterion's plotting cannot draw; the figures are the printed lines.
    config = Criterion::default().without_plots();
    targets = apply
}
criterion_main!(benches);
