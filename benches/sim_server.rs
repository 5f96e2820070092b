//! Simulator API server benchmarks: start to first request served, writes
//! per second from one kube-rs client over keep-alive (sequential and
//! pipelined), resident memory with 10,000 ConfigMaps (printed once), and
//! the server's limit: the most writes/s it accepts from the minimal
//! client of `support::raw` (hyper over rustls, keep-alive connections,
//! server-side apply PATCHes creating 1,000 ConfigMaps per iteration into a
//! fresh namespace), over 1 to 64 connections, HTTPS and plain HTTP.
//!
//! Targets (issue 3): start < 50 ms; >= 5,000 writes/s; 10,000 ConfigMaps
//! in < 200 MB resident. The limit is what the apply engine is measured
//! against (bench `apply_vs_kubectl`).

#![allow(clippy::print_stdout, missing_docs)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use gameday::clock::Clock;
use gameday::sim::{SimCluster, SimOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": {"app": "bench"}}, "data": {"key": "value", "other": "some longer value of a config map entry"}})).unwrap()
}

fn options() -> SimOptions {
    SimOptions::new("bench", Clock::wall())
}

fn start(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    c.bench_function("sim/start_to_first_request", |b| {
        b.to_async(&rt).iter(|| async {
            let cluster = SimCluster::start(options()).await.unwrap();
            let client = cluster.client().await.unwrap();
            client.apiserver_version().await.unwrap();
            cluster.shutdown().await;
        });
    });
}

fn writes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cluster, api) = rt.block_on(async {
        let cluster = SimCluster::start(options()).await.unwrap();
        let api = Api::<ConfigMap>::namespaced(cluster.client().await.unwrap(), "default");
        (cluster, api)
    });
    let mut group = c.benchmark_group("sim/writes");
    const N: u64 = 500;
    group.throughput(Throughput::Elements(N));
    let mut round = 0u64;
    group.bench_function("sequential_creates", |b| {
        b.to_async(&rt).iter(|| {
            round += 1;
            let (api, r) = (api.clone(), round);
            async move {
                for i in 0..N {
                    api.create(&PostParams::default(), &cm(&format!("s{r}-{i}")))
                        .await
                        .unwrap();
                }
            }
        });
    });
    group.bench_function("pipelined_creates_16", |b| {
        b.to_async(&rt).iter(|| {
            round += 1;
            let (api, r) = (api.clone(), round);
            async move {
                futures::stream::iter(0..N)
                    .map(|i| {
                        let api = api.clone();
                        async move {
                            api.create(&PostParams::default(), &cm(&format!("p{r}-{i}")))
                                .await
                                .unwrap()
                        }
                    })
                    .buffer_unordered(16)
                    .collect::<Vec<_>>()
                    .await;
            }
        });
    });
    group.finish();
    rt.block_on(cluster.shutdown());
}

/// The in-process API the simulated controllers use (no HTTP).
fn store_writes(c: &mut Criterion) {
    use gameday::sim::Gvr;
    use gameday::sim::storage::kinds::Registry;
    use gameday::sim::storage::store::{Store, StoreOptions, WriteOptions};
    let store = Store::new(
        Registry::with_builtins(),
        Clock::wall(),
        StoreOptions::default(),
    );
    store
        .create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": "default"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let mut group = c.benchmark_group("sim/store");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function("create_in_process", |b| {
        b.iter(|| {
            i += 1;
            let body = serde_json::to_value(cm(&format!("s{i}"))).unwrap();
            store
                .create(
                    &Gvr::core("configmaps"),
                    Some("default"),
                    body,
                    &WriteOptions::manager("bench"),
                )
                .unwrap()
        });
    });
    group.finish();
}

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

/// Not a timing: prints resident memory before and after 10,000 ConfigMaps
/// created over HTTP, and a one-shot writes/s figure.
fn memory(_: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let before = rss_mb();
        let t0 = Instant::now();
        let cluster = SimCluster::start(options()).await.unwrap();
        let client = cluster.client().await.unwrap();
        client.apiserver_version().await.unwrap();
        let started = t0.elapsed();
        let api = Api::<ConfigMap>::namespaced(client, "default");
        let t1 = Instant::now();
        futures::stream::iter(0..10_000)
            .map(|i| {
                let api = api.clone();
                async move { api.create(&PostParams::default(), &cm(&format!("m{i}"))).await.unwrap() }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        let took = t1.elapsed();
        let after = rss_mb();
        println!(
            "sim/memory: start+first request {:.1} ms; 10,000 ConfigMaps in {:.2} s ({:.0} writes/s, 16 in flight); resident {before:.0} MB before, {after:.0} MB after (+{:.0} MB)",
            started.as_secs_f64() * 1e3,
            took.as_secs_f64(),
            10_000.0 / took.as_secs_f64(),
            after - before
        );
        cluster.shutdown().await;
    });
}

/// The server's limit (see the module docs).
fn limit(c: &mut Criterion) {
    use std::sync::Arc;
    use support::raw::{Loop, Target, config_maps};
    const N: usize = 1_000;
    let rt = support::runtime();
    let mut group = c.benchmark_group("sim/limit");
    group.throughput(Throughput::Elements(N as u64));
    let mut lines = Vec::new();
    for tls in [true, false] {
        let cluster = rt.block_on(async {
            SimCluster::start(SimOptions { tls, ..options() })
                .await
                .unwrap()
        });
        let target = Target::of(&cluster);
        let conns: &[usize] = if tls { &[1, 4, 16, 64] } else { &[16, 64] };
        for &n in conns {
            let label = format!("{}_{n}_conns", if tls { "https" } else { "http" });
            let samples = support::Samples::default();
            let mut round = 0u64;
            group.bench_function(&label, |b| {
                b.to_async(&rt).iter_custom(|iters| {
                    let (cluster, target, samples) = (&cluster, &target, samples.clone());
                    let first = round;
                    round += iters;
                    async move {
                        let mut total = Duration::ZERO;
                        for i in 0..iters {
                            let ns = format!("limit-{n}-{}", first + i);
                            cluster
                                .store()
                                .create(
                                    &gameday::sim::Gvr::core("namespaces"),
                                    None,
                                    json!({"metadata": {"name": ns}}),
                                    &Default::default(),
                                )
                                .unwrap();
                            let requests = Arc::new(config_maps(&ns, N));
                            let mut client = Loop::open(target, n).await;
                            let t = Instant::now();
                            assert_eq!(client.run(requests).await, N);
                            let took = t.elapsed();
                            samples.record(took);
                            total += took;
                            support::delete_namespace(cluster.store(), &ns).await;
                        }
                        total
                    }
                });
            });
            lines.push((label, samples));
        }
        rt.block_on(cluster.shutdown());
    }
    group.finish();
    let best = lines
        .iter()
        .map(|(label, s)| support::per_sec(N, s.report(&format!("sim/limit/{label}"), N, "writes")))
        .fold(0.0, f64::max);
    println!(
        "sim/limit: {} writes/s at best ({})",
        support::thousands(best),
        support::machine()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots().sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_secs(1));
    targets = memory, start, store_writes, writes, limit
}
criterion_main!(benches);
