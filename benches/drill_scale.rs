//! Scale of a drill: wall time and peak resident memory of a full
//! `cluster-loss` drill of a synthetic repository, run by the `gameday`
//! binary (built with the bench profile, i.e. release) in a child process,
//! exactly as a user runs it: `gameday run scale.yaml --out DIR --format json`.
//!
//! The repository and scenario are what `gameday synth --objects N` writes
//! (`gitops::synth`, into a temp dir; the scenario's `source.fixture`
//! turns it into a fresh Git repository): N objects in N/100 Flux
//! Kustomizations (`wait: true`) over 10 namespaces (50 above 10,000
//! objects) — 60 % ConfigMaps, 20 % Secrets, 15 % Services and 5 %
//! Deployments of one replica (so as many ReplicaSets and Pods more), on
//! one simulated node per 80 pods (at least 6).
//! The drill: simulator with the `instant` profile, Flux bootstrap, steady
//! state (every Kustomization Ready, every workload ready), snapshot,
//! cluster-loss, rebuild (provision, bootstrap, converge, healthy), state
//! diff, reports.
//!
//! Sizes: `GAMEDAY_SCALE_OBJECTS` (comma-separated, default `10000`; e.g.
//! `1000,10000,100000` for the growth curve, which is printed as the ratio
//! of each size's median to the previous one's). `GAMEDAY_SCALE_HELM=H`
//! makes the last H apps HelmReleases of the same objects (a chart kept in
//! Git, installed by the real helm) instead of Kustomizations.
//!
//! Peak memory is `ru_maxrss` of the children (getrusage): the largest
//! process among the drills run so far, i.e. the `gameday` process of the
//! largest size; sizes run smallest first, so each line's peak is its own.
//! The phase breakdown of each size's last run is printed from its report.json.
//! Targets (issue 20): 10,000 objects < 5 s wall and < 300 MB peak
//! resident; 100,000 objects < 60 s and < 2 GB, ≤ 12× the 10,000-object
//! drill.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::gitops::synth::{self, ScenarioSpec, SynthSpec};
use gameday::process::Cmd;
use serde_json::Value;
use support::Samples;

/// The sizes to drill, smallest first.
fn sizes() -> Vec<usize> {
    let mut sizes: Vec<usize> = std::env::var("GAMEDAY_SCALE_OBJECTS")
        .unwrap_or_else(|_| "10000".into())
        .split(',')
        .map(|s| {
            s.trim()
                .replace('_', "")
                .parse()
                .expect("GAMEDAY_SCALE_OBJECTS: numbers")
        })
        .collect();
    sizes.sort_unstable();
    sizes
}

/// HelmReleases among the apps (`GAMEDAY_SCALE_HELM`, default 0).
fn helm_releases() -> usize {
    std::env::var("GAMEDAY_SCALE_HELM").map_or(0, |h| {
        h.trim().parse().expect("GAMEDAY_SCALE_HELM: a number")
    })
}

/// Writes the repository and the scenario; returns the scenario file.
fn prepare(work: &Path, objects: usize) -> PathBuf {
    let dir = work.join(format!("synth-{objects}"));
    let spec = SynthSpec {
        helm_releases: helm_releases(),
        ..SynthSpec::scale(objects)
    };
    let summary = synth::generate(&dir.join("repo"), &spec).expect("generate");
    assert_eq!(summary.objects, objects);
    let scenario = synth::scenario(
        &summary,
        &ScenarioSpec {
            name: format!("scale-{objects}"),
            fixture: "repo".into(),
            nodes: synth::nodes_for(&summary, 1),
            seed: 7,
        },
    );
    let file = dir.join("scale.yaml");
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
    let mut medians: Vec<(usize, Duration)> = Vec::new();
    for objects in sizes() {
        let scenario = prepare(work.path(), objects);
        let samples = Samples::default();
        let last = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
        let mut group = c.benchmark_group("drill_scale");
        support::slow_group(&mut group, 10, 30);
        let mut run = 0u64;
        let id = format!("cluster_loss_{objects}_objects");
        group.bench_function(&id, |b| {
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
            .report(&format!("drill_scale/{id}"), objects, "objects")
            .is_zero()
        {
            continue;
        }
        let median = samples.median();
        let growth = medians.last().map_or(String::new(), |(prev, t)| {
            format!(
                "; {:.1}x the {prev}-object drill for {:.0}x the objects",
                median.as_secs_f64() / t.as_secs_f64(),
                objects as f64 / *prev as f64
            )
        });
        println!(
            "drill_scale/{id}: peak resident {:.0} MB (largest of {} runs), median wall {}{growth}",
            children_peak_mb(),
            samples.sorted().len(),
            support::ms(median),
        );
        println!(
            "drill_scale/{id} last run phases: {}",
            phases(&last.lock().expect("last report"))
        );
        medians.push((objects, median));
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
