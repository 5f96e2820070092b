//! GitOps layer benchmarks: materialising fixture repositories, rendering
//! them, and generating + rendering a synthetic repository of 10,000 objects.
//!
//! `cargo bench --bench gitops` (or `--profile dev` for a quick run).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::render::render;
use gameday::gitops::repo::{FixtureOptions, Repo};
use gameday::gitops::synth::{SynthSpec, generate};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/repos")
        .join(name)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn materialise(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("materialise");
    support::slow_group(&mut g, 10, 10);
    for name in ["podinfo", "shop"] {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                Repo::from_fixture(&fixture(name), &FixtureOptions::default())
                    .await
                    .expect("materialise")
            })
        });
    }
    g.finish();
}

fn render_fixtures(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("render");
    support::slow_group(&mut g, 10, 10);
    let podinfo = fixture("podinfo");
    g.bench_function("podinfo (3 paths, 2 kustomize builds)", |b| {
        b.to_async(&rt).iter(|| async {
            let mut n = 0;
            for path in ["clusters/staging", "infrastructure", "apps/podinfo"] {
                n += render(&podinfo, path).await.expect("render").objects.len();
            }
            assert_eq!(n, 11);
        })
    });
    let shop = fixture("shop");
    g.bench_function("shop (plain, 34 objects)", |b| {
        b.to_async(&rt).iter(|| async {
            let r = render(&shop, ".").await.expect("render");
            assert_eq!(r.objects.len(), 34);
        })
    });
    g.finish();
}

fn synth_10k(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("synth");
    support::slow_group(&mut g, 10, 20);
    for k in [0usize, 100] {
        g.bench_function(
            format!("generate+render 10000 objects, {k} kustomizations"),
            |b| {
                b.to_async(&rt).iter(|| async move {
                    let dir = tempfile::tempdir().expect("tempdir");
                    let spec = SynthSpec::config_maps(10_000, k);
                    let summary = generate(dir.path(), &spec).expect("generate");
                    let mut n = 0;
                    let root = render(dir.path(), &summary.cluster_path)
                        .await
                        .expect("render");
                    if k == 0 {
                        n += root.objects.len() - summary.namespaces.len();
                    }
                    for (_, path) in &summary.kustomizations {
                        n += render(dir.path(), path)
                            .await
                            .expect("render")
                            .objects
                            .len();
                    }
                    assert_eq!(n, 10_000);
                })
            },
        );
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: a quick pass of a multi-second bench has one sample, which
    // criterion's plotting cannot draw; the figures are the printed lines.
    config = Criterion::default().without_plots();
    targets = materialise, render_fixtures, synth_10k
}
criterion_main!(benches);
