//! The shape of Flux's own public benchmark (fluxcd/flux-benchmark, the
//! Kustomization rows of its RESULTS.md): K Kustomizations of four objects
//! each — a Deployment scaled to zero, a ServiceAccount, a Service and an
//! Ingress — for K = 100, 500 and 1,000, reconciled by the simulator's
//! emulated Flux (`SynthSpec::flux_benchmark(k)`: `wait: true`, so each
//! Kustomization is Ready only once its Deployment is Available).
//!
//! Timed: from an empty simulated cluster (`instant` profile, virtual
//! clock) with the Flux emulation started (default options: 4 concurrent
//! reconciles, 8 concurrent applies each — Flux's own defaults) to every
//! Kustomization Ready at the head revision: Flux installed, the
//! `flux-system` sync objects applied and Ready, the K Kustomizations it
//! creates reconciled.
//!
//! Published figures for real Flux (RESULTS.md, GitHub `ubuntu-latest-16-cores`
//! runner, kind with 3 nodes, kustomize-controller with 2 CPUs and
//! concurrency 20, one OCIRepository per app): 100 → 27–28 s, 500 → 2m2s–2m4s,
//! 1,000 → 4m15s–4m16s (v2.2 to v2.6). Not comparable — a real API server,
//! etcd, OCI pulls and kustomize builds there; an in-process simulator,
//! one local Git repository and plain YAML here — so ours is the reference
//! for regressions of the emulation, not a claim about Flux.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::gitops::synth::SynthSpec;
use gameday::sim::Profile;
use support::{Samples, Served};

const APPS: [usize; 3] = [100, 500, 1_000];

/// Published real-Flux durations (seconds) for the same K, Flux v2.6.0.
fn published(k: usize) -> u64 {
    match k {
        100 => 28,
        500 => 2 * 60 + 2,
        _ => 4 * 60 + 16,
    }
}

async fn run(served: &Served, samples: &Samples) -> Duration {
    let cluster = support::sim("bench", Profile::instant()).await;
    let flux = cluster.enable_flux(Default::default()).await.expect("flux");
    let applier = support::applier(&cluster).await;
    let names = served.kustomizations();
    let t = Instant::now();
    support::flux_bootstrap(&applier, served).await;
    support::kustomizations_ready(cluster.store(), &names, &served.head).await;
    let took = t.elapsed();
    samples.record(took);
    drop(flux);
    cluster.shutdown().await;
    took
}

fn bench(c: &mut Criterion) {
    support::print_machine("flux_benchmark");
    let rt = support::runtime();
    let mut group = c.benchmark_group("flux_benchmark");
    support::slow_group(&mut group, 10, 10);
    let mut lines = Vec::new();
    for k in APPS {
        let served = rt.block_on(Served::new(&SynthSpec::flux_benchmark(k)));
        assert_eq!(served.summary.objects, 4 * k);
        let samples = Samples::default();
        group.throughput(Throughput::Elements(k as u64));
        group.bench_with_input(BenchmarkId::new("kustomizations", k), &k, |b, _| {
            b.to_async(&rt).iter_custom(|iters| {
                let (served, samples) = (&served, samples.clone());
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += run(served, &samples).await;
                    }
                    total
                }
            });
        });
        lines.push((k, samples));
    }
    group.finish();
    for (k, samples) in lines {
        let m = samples.report(
            &format!("flux_benchmark/kustomizations/{k}"),
            k,
            "Kustomizations",
        );
        if m.is_zero() {
            continue;
        }
        println!(
            "flux_benchmark/kustomizations/{k}: published real Flux {} ({:.1} Kustomizations/s) on other hardware and a real server; simulator/published time {:.4}",
            humantime::format_duration(Duration::from_secs(published(k))),
            k as f64 / published(k) as f64,
            m.as_secs_f64() / published(k) as f64,
        );
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
