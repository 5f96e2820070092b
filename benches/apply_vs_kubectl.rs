//! The apply engine against `kubectl apply --server-side` and against the
//! server's own limit, in one run, on one simulator (HTTPS with token,
//! `instant` profile, wall clock) and the same 1,000 ConfigMaps
//! (`SynthSpec::config_maps(1000, 0)`: a Namespace and ten files of 100).
//!
//! Each iteration applies the objects into a fresh namespace (the files are
//! re-targeted at it before the clock starts) and deletes it afterwards, so
//! every iteration creates 1,000 objects in the same store state.
//!
//! - `engine`: read and parse the folder (`gitops::render`) and apply it
//!   with `gitops::apply::Applier` (defaults: 16 requests in flight).
//! - `kubectl`: `kubectl apply --server-side -R -f DIR` (the machine's
//!   kubectl; KUBECONFIG pointed at the simulator, a `--cache-dir` kept
//!   warm across iterations, as on a workstation).
//! - `raw/<conns>`: the same ConfigMaps as server-side apply PATCHes from
//!   the minimal client of `support::raw` over 16 and 64 keep-alive
//!   connections: the ceiling.
//!
//! Printed at the end: each median's objects/s, engine ÷ kubectl and
//! engine ÷ best raw. Targets (issue 7): engine ≥ 10× kubectl and ≥ 50 % of
//! the server's limit.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, Manifest};
use gameday::gitops::render::render;
use gameday::gitops::synth::{self, SynthSpec};
use gameday::process::Cmd;
use gameday::sim::{SimCluster, SimOptions};
use serde_json::Value;
use support::Samples;
use support::raw::{Apply, Loop, Target};

const N: usize = 1_000;
/// The namespace the generated files name, replaced per iteration.
const NS: &str = "synth-0";
const RAW_CONNS: [usize; 2] = [16, 64];

struct Setup {
    cluster: SimCluster,
    applier: Applier,
    target: Target,
    kubeconfig: PathBuf,
    kube_cache: tempfile::TempDir,
    template: tempfile::TempDir,
    path: String,
    /// The ConfigMaps as the engine sends them (for the raw client).
    objects: Vec<Value>,
}

impl Setup {
    async fn new(work: &Path) -> Setup {
        let cluster = SimCluster::start(SimOptions::new("bench", Clock::wall()))
            .await
            .expect("simulator");
        let kubeconfig = work.join("kubeconfig");
        cluster.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let template = tempfile::tempdir().expect("tempdir");
        let summary =
            synth::generate(template.path(), &SynthSpec::config_maps(N, 0)).expect("generate");
        assert_eq!(summary.namespaces, [NS]);
        let objects = render(template.path(), &summary.cluster_path)
            .await
            .expect("render")
            .objects
            .into_iter()
            .map(|o| Manifest::from(o).object)
            .filter(|o| o["kind"] == "ConfigMap")
            .collect::<Vec<_>>();
        assert_eq!(objects.len(), N);
        Setup {
            applier: support::applier(&cluster).await,
            target: Target::of(&cluster),
            cluster,
            kubeconfig,
            kube_cache: tempfile::tempdir().expect("tempdir"),
            template,
            path: summary.cluster_path,
            objects,
        }
    }

    /// The generated files, re-targeted at namespace `ns`.
    fn stage(&self, ns: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        support::copy_replacing(self.template.path(), dir.path(), NS, ns);
        dir
    }

    async fn engine(&self, ns: &str) -> Duration {
        let dir = self.stage(ns);
        let t = Instant::now();
        let rendered = render(dir.path(), &self.path).await.expect("render");
        let manifests = rendered.objects.into_iter().map(Manifest::from).collect();
        let report = self.applier.apply(manifests).await;
        let took = t.elapsed();
        assert_eq!(report.count("created"), N + 1, "{:?}", report.failures());
        support::delete_namespace(self.cluster.store(), ns).await;
        took
    }

    async fn kubectl(&self, ns: &str) -> Duration {
        let dir = self.stage(ns);
        let cmd = Cmd::new("kubectl")
            .args(["apply", "--server-side", "-R", "-f"])
            .arg(dir.path().join(&self.path))
            .arg("--cache-dir")
            .arg(self.kube_cache.path())
            .env("KUBECONFIG", &self.kubeconfig)
            .timeout(Duration::from_secs(300));
        let t = Instant::now();
        let out = cmd.output().await.expect("kubectl apply");
        let took = t.elapsed();
        assert_eq!(out.stdout.lines().count(), N + 1, "{}", out.stdout);
        support::delete_namespace(self.cluster.store(), ns).await;
        took
    }

    async fn raw(&self, ns: &str, conns: usize) -> Duration {
        let requests: Vec<Apply> = self
            .objects
            .iter()
            .map(|o| {
                let mut o = o.clone();
                o["metadata"]["namespace"] = ns.into();
                Apply::core("configmaps", &o)
            })
            .collect();
        self.cluster
            .store()
            .create(
                &gameday::sim::Gvr::core("namespaces"),
                None,
                serde_json::json!({"metadata": {"name": ns}}),
                &Default::default(),
            )
            .expect("namespace");
        let mut client = Loop::open(&self.target, conns).await;
        let t = Instant::now();
        let ok = client.run(Arc::new(requests)).await;
        let took = t.elapsed();
        assert_eq!(ok, N);
        support::delete_namespace(self.cluster.store(), ns).await;
        took
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Engine,
    Kubectl,
    Raw(usize),
}

fn bench(c: &mut Criterion) {
    support::print_machine("apply_vs_kubectl");
    let rt = support::runtime();
    let work = tempfile::tempdir().expect("tempdir");
    let setup = rt.block_on(Setup::new(work.path()));
    let mut group = c.benchmark_group("apply_vs_kubectl");
    support::slow_group(&mut group, 10, 5);
    let mut round = 0u64;
    let mut results = Vec::new();
    let mut who = vec![Who::Engine, Who::Kubectl];
    who.extend(RAW_CONNS.map(Who::Raw));
    for w in who {
        let (id, elements) = match w {
            Who::Engine => (BenchmarkId::new("engine", N), N + 1),
            Who::Kubectl => (BenchmarkId::new("kubectl", N), N + 1),
            Who::Raw(conns) => (BenchmarkId::new(format!("raw_{conns}_conns"), N), N),
        };
        let samples = Samples::default();
        group.throughput(Throughput::Elements(elements as u64));
        group.bench_function(id, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (setup, samples) = (&setup, samples.clone());
                let first = round;
                round += iters;
                async move {
                    let mut total = Duration::ZERO;
                    for i in 0..iters {
                        let ns = format!("b-{}", first + i);
                        let took = match w {
                            Who::Engine => setup.engine(&ns).await,
                            Who::Kubectl => setup.kubectl(&ns).await,
                            Who::Raw(conns) => setup.raw(&ns, conns).await,
                        };
                        samples.record(took);
                        total += took;
                    }
                    total
                }
            });
        });
        results.push((w, samples, elements));
    }
    group.finish();
    let rate = |w: Who| {
        let (_, s, n) = results.iter().find(|(x, _, _)| *x == w).expect("measured");
        let label = match w {
            Who::Engine => "apply_vs_kubectl/engine".to_owned(),
            Who::Kubectl => "apply_vs_kubectl/kubectl".to_owned(),
            Who::Raw(c) => format!("apply_vs_kubectl/raw_{c}_conns"),
        };
        support::per_sec(*n, s.report(&label, *n, "objects"))
    };
    let engine = rate(Who::Engine);
    let kubectl = rate(Who::Kubectl);
    let raw = RAW_CONNS
        .iter()
        .map(|c| rate(Who::Raw(*c)))
        .fold(0.0, f64::max);
    if engine == 0.0 || kubectl == 0.0 || raw == 0.0 {
        // Some were filtered out on the command line: no ratio to print.
        return;
    }
    println!(
        "apply_vs_kubectl: engine {} objects/s, kubectl {} objects/s: engine/kubectl {:.1}x (target >= 10x); server limit {} writes/s: engine/limit {:.0} % (target >= 50 %)",
        support::thousands(engine),
        support::thousands(kubectl),
        engine / kubectl,
        support::thousands(raw),
        100.0 * engine / raw,
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
