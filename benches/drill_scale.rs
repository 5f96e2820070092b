//! Scale of a drill: wall time and peak resident memory of a full
//! `cluster-loss` drill of a 10,000-object repository, run by the `gameday`
//! binary (built with the bench profile, i.e. release) in a child process,
//! exactly as a user runs it: `gameday run scale.yaml --out DIR --format json`.
//!
//! The repository (`gitops::synth`, written once into a temp dir, which the
//! scenario's `source.fixture` turns into a fresh Git repository): 10,000
//! objects in 100 Flux Kustomizations (`wait: true`) over 10 namespaces —
//! 6,000 ConfigMaps, 2,000 Secrets, 1,500 Services and 500 Deployments of
//! one replica (so 500 ReplicaSets and 500 Pods more on 6 nodes).
//! The drill: simulator with the `instant` profile, Flux bootstrap, steady
//! state (every Kustomization Ready, every workload ready), snapshot,
//! cluster-loss, rebuild (provision, bootstrap, converge, healthy), state
//! diff, reports.
//!
//! Peak memory is `ru_maxrss` of the children (getrusage): the largest
//! process among the drills run, i.e. the `gameday` process. The phase
//! breakdown of the last run is printed from its report.json.
//! Targets (issue 7): < 10 s wall, < 500 MB peak resident.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::synth::{self, Mix, Shape, SynthSpec};
use gameday::process::Cmd;
use serde_json::Value;
use support::Samples;

const OBJECTS: usize = 10_000;
const NAMESPACES: usize = 10;
const NODES: usize = 6;

fn spec() -> SynthSpec {
    SynthSpec {
        objects: OBJECTS,
        namespaces: NAMESPACES,
        kustomizations: 100,
        shape: Shape::Mix(Mix {
            config_maps: 60,
            secrets: 20,
            services: 15,
            deployments: 5,
        }),
        replicas: 1,
        ..SynthSpec::default()
    }
}

/// Writes the repository and the scenario; returns the scenario file.
fn prepare(work: &Path) -> PathBuf {
    let repo = work.join("repo");
    let summary = synth::generate(&repo, &spec()).expect("generate");
    assert_eq!(summary.objects, OBJECTS);
    let namespaces = summary.namespaces.join(", ");
    let scenario = format!(
        "apiVersion: gameday/v1alpha1
kind: Scenario
metadata:
  name: scale-cluster-loss
  description: The whole cluster is lost; 10,000 objects come back from Git.
spec:
  cluster:
    provider: sim
    sim: {{ profile: instant, nodes: {NODES}, seed: 7 }}
  source:
    fixture: {repo}
    branch: main
    path: {path}
  bootstrap:
    method: flux
  steadyState:
    timeout: 30m
    checks:
      - kustomizations: all
      - workloads: {{ namespaces: [{namespaces}] }}
  disaster:
    - fault: cluster-loss
  recovery: {{ method: rebuild }}
  rto:
    total: 1h
",
        repo = repo.display(),
        path = summary.cluster_path,
    );
    let file = work.join("scale.yaml");
    std::fs::write(&file, scenario).expect("scenario");
    file
}

/// Peak resident set of the largest child waited for so far, in MB.
fn children_peak_mb() -> f64 {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)
        .expect("getrusage");
    usage.max_rss() as f64 * 1024.0 / 1e6
}

/// One drill; returns its wall time and its report.
async fn drill(scenario: &Path, work: &Path, run: u64) -> (Duration, Value) {
    let out = work.join(format!("report-{run}"));
    let cmd = Cmd::new(env!("CARGO_BIN_EXE_gameday"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(&out)
        .args(["--format", "json"])
        .env("TMPDIR", work)
        .timeout(Duration::from_secs(900));
    let t = Instant::now();
    let result = cmd.output().await;
    let took = t.elapsed();
    let text = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    let report: Value = serde_json::from_str(&text).expect("report JSON");
    assert!(
        result.is_ok() && report["status"] == "passed",
        "drill failed: {result:?}\n{text}"
    );
    let _ = std::fs::remove_dir_all(&out);
    (took, report)
}

/// One line per phase: wall ms (and simulated ms) from the report.
fn phases(report: &Value) -> String {
    let repeat = &report["scenarios"][0]["repeats"][0];
    let mut out = Vec::new();
    for p in repeat["phases"].as_array().into_iter().flatten() {
        let sim = match (p["start_ms"].as_i64(), p["end_ms"].as_i64()) {
            (Some(s), Some(e)) => format!(", {} ms sim", e - s),
            _ => String::new(),
        };
        out.push(format!(
            "{} {} ms wall{sim}",
            p["name"].as_str().unwrap_or("?"),
            p["wall_ms"]
        ));
    }
    format!(
        "{}; recovery {} ms simulated",
        out.join(", "),
        repeat["recovery_ms"]
    )
}

fn bench(c: &mut Criterion) {
    support::print_machine("drill_scale");
    let rt = support::runtime();
    let work = tempfile::tempdir().expect("tempdir");
    let scenario = prepare(work.path());
    let samples = Samples::default();
    let last = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
    let mut group = c.benchmark_group("drill_scale");
    support::slow_group(&mut group, 10, 30);
    let mut run = 0u64;
    group.bench_function("cluster_loss_10000_objects", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (scenario, work, samples, last) =
                (&scenario, work.path(), samples.clone(), last.clone());
            let first = run;
            run += iters;
            async move {
                let mut total = Duration::ZERO;
                for i in 0..iters {
                    let (took, report) = drill(scenario, work, first + i).await;
                    samples.record(took);
                    *last.lock().expect("last report") = report;
                    total += took;
                }
                total
            }
        });
    });
    group.finish();
    if samples
        .report("drill_scale/cluster_loss_10000_objects", OBJECTS, "objects")
        .is_zero()
    {
        return;
    }
    println!(
        "drill_scale/cluster_loss_10000_objects: peak resident {:.0} MB (largest of {} runs; target < 500 MB), median wall {} (target < 10 s)",
        children_peak_mb(),
        samples.sorted().len(),
        support::ms(samples.median()),
    );
    println!(
        "drill_scale/last run phases: {}",
        phases(&last.lock().expect("last report"))
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
