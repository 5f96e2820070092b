//! The cost of building Kustomizations the way kustomize-controller does
//! (`gameday::gitops::render::fluxbuild`): one Kustomization with build
//! fields (patches of both kinds, images, a component, namePrefix,
//! targetNamespace: a scratch copy of the source and a rewritten
//! kustomization file before `kubectl kustomize`) against the same path
//! without them, and a set of 100 Kustomizations with patches, built one
//! after the other as one controller worker would.
//!
//! `cargo bench --bench flux_build` (or `-- --quick`).

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::render::fluxbuild::{self, BuildSpec};
use gameday::gitops::render::{RenderOptions, render};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/repos/fluxbuild")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The spec of the `web` Kustomization of `clusters/test`.
fn web_spec(rt: &tokio::runtime::Runtime) -> BuildSpec {
    rt.block_on(async {
        let cluster = render(&fixture(), "./clusters/test").await.expect("render");
        let web = cluster
            .objects
            .iter()
            .find(|o| o.kind() == "Kustomization" && o.name() == "web")
            .expect("web");
        BuildSpec::from_kustomization(&web.manifest).expect("spec")
    })
}

async fn build_web(spec: &BuildSpec) -> usize {
    let mut r = fluxbuild::build(&fixture(), "./apps/web", spec, &RenderOptions::default())
        .await
        .expect("build");
    if let Some(md) = &spec.common_metadata {
        fluxbuild::set_common_metadata(&mut r.objects, md);
    }
    assert_eq!(r.objects.len(), 2);
    r.objects.len()
}

fn per_kustomization(c: &mut Criterion) {
    let rt = runtime();
    let with = web_spec(&rt);
    assert!(with.overlays() && !with.patches.is_empty());
    let without = BuildSpec::default();
    let mut g = c.benchmark_group("flux_build");
    support::slow_group(&mut g, 20, 10);
    g.bench_function("one Kustomization without build fields", |b| {
        b.to_async(&rt).iter(|| build_web(&without))
    });
    g.bench_function("one Kustomization with patches, images, a component", |b| {
        b.to_async(&rt).iter(|| build_web(&with))
    });
    g.finish();
}

fn hundred(c: &mut Criterion) {
    let rt = runtime();
    let with = web_spec(&rt);
    let mut g = c.benchmark_group("flux_build");
    support::slow_group(&mut g, 10, 30);
    for (label, spec) in [
        (
            "100 Kustomizations without build fields",
            BuildSpec::default(),
        ),
        ("100 Kustomizations with patches", with),
    ] {
        g.bench_function(label, |b| {
            b.to_async(&rt).iter(|| async {
                let mut n = 0;
                for _ in 0..100 {
                    n += build_web(&spec).await;
                }
                assert_eq!(n, 200);
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = per_kustomization, hundred
}
criterion_main!(benches);
