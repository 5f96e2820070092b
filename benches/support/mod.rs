//! Shared setup of the benchmarks (each bench includes it with
//! `#[path = "support/mod.rs"] mod support;` and uses what it needs).
//!
//! - [`quick`]: `GAMEDAY_BENCH_QUICK=1` (set by `make bench-quick`) asks for
//!   a short pass; benches then leave criterion's timing to the command line
//!   (`--quick`) and take fewer samples of their own.
//! - Simulated clusters on the virtual clock, as drills run them
//!   ([`sim`]), and synthetic repositories served over Git smart HTTP
//!   ([`Served`]).
//! - [`Samples`]: the wall time of every iteration, so a bench prints its
//!   median and rate in one line the README quotes.
//! - [`raw`]: the minimal HTTP client that measures the server's limit.

#![allow(dead_code, clippy::print_stdout)]

pub mod raw;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, SamplingMode};
use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap, FluxReport};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::gitops::synth::{self, Summary, SynthSpec};
use gameday::kstatus::{Health, kustomization};
use gameday::scenario::model::FluxSettings;
use gameday::sim::Profile;
use gameday::sim::storage::store::{DeleteOptions, EventFilter, conditions};
use gameday::sim::{GroupResource, Gvr, ObjectRef, SimCluster, SimOptions, Store};

/// The simulated start time of every virtual clock (fixed: reproducible).
pub const START: &str = "2026-03-01T09:00:00Z";

/// True for a short pass (`GAMEDAY_BENCH_QUICK` set to anything but `0`).
pub fn quick() -> bool {
    std::env::var("GAMEDAY_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// `full` normally, `short` in a quick pass.
pub fn pick<T>(full: T, short: T) -> T {
    if quick() { short } else { full }
}

/// A multi-threaded runtime with one worker per CPU, as `gameday` runs.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Settings of a group whose iterations take from tens of milliseconds to
/// seconds: one iteration per sample, `samples` samples. In a quick pass
/// the command line decides (`--quick`).
pub fn slow_group(group: &mut BenchmarkGroup<'_, WallTime>, samples: usize, seconds: u64) {
    group.sampling_mode(SamplingMode::Flat);
    if !quick() {
        group
            .sample_size(samples.max(10))
            .measurement_time(Duration::from_secs(seconds))
            .warm_up_time(Duration::from_millis(500));
    }
}

/// A simulated cluster on a virtual clock (time jumps to the next timer
/// when nothing happens), as `gameday run` starts them; waits until its
/// nodes are Ready (what `kind create cluster --wait` gives).
pub async fn sim(name: &str, profile: Profile) -> SimCluster {
    let cluster = SimCluster::start(SimOptions {
        profile,
        ..SimOptions::new(name, Clock::simulated(START.parse().expect("start time")))
    })
    .await
    .expect("simulator starts");
    nodes_ready(cluster.store()).await;
    cluster
}

/// Waits until every Node is Ready.
pub async fn nodes_ready(store: &Store) {
    let ready = |store: &Store| {
        store
            .list(&Gvr::core("nodes"), None, &Default::default())
            .is_ok_and(|l| {
                l.items
                    .iter()
                    .all(|n| conditions::condition_status(n, "Ready") == Some("True"))
            })
    };
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("", "nodes")));
    while !ready(store) {
        drop(sub.recv().await.expect("store alive").busy);
    }
}

/// An applier with the harness's defaults (field manager `gameday`).
pub async fn applier(cluster: &SimCluster) -> Applier {
    Applier::new(
        cluster.client().await.expect("client"),
        cluster.clock().clone(),
        ApplyOptions::default(),
    )
}

/// Deletes a namespace through the store and waits until it is gone
/// (its contents with it).
pub async fn delete_namespace(store: &Store, ns: &str) {
    let r = ObjectRef::cluster(Gvr::core("namespaces"), ns);
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("", "namespaces")));
    if store.delete(&r, &DeleteOptions::default()).is_err() {
        return;
    }
    while store.get(&r).is_ok() {
        drop(sub.recv().await.expect("store alive").busy);
    }
}

/// A generated repository, committed and served over Git smart HTTP.
pub struct Served {
    /// What was generated.
    pub summary: Summary,
    /// The head revision (`main@sha1:…`).
    pub head: String,
    server: GitServer,
    _repo: Repo,
    _dir: tempfile::TempDir,
}

impl Served {
    /// Generates `spec`, commits it and serves it.
    pub async fn new(spec: &SynthSpec) -> Served {
        let dir = tempfile::tempdir().expect("tempdir");
        let summary = synth::generate(dir.path(), spec).expect("generate");
        let repo = Repo::init(dir.path(), &FixtureOptions::default())
            .await
            .expect("git repository");
        let head = repo.head().await.expect("head").to_string();
        let server = GitServer::serve(repo.path(), "synth", ServeOptions::default())
            .await
            .expect("git server");
        Served {
            summary,
            head,
            server,
            _repo: repo,
            _dir: dir,
        }
    }

    /// The cluster path on branch `main`, as a bootstrap reads it.
    pub fn source(&self) -> SyncSource {
        SyncSource {
            url: self.server.url(),
            reference: GitRef::branch("main"),
            path: self.summary.cluster_path.clone(),
            artifact: None,
        }
    }

    /// The Kustomizations' names.
    pub fn kustomizations(&self) -> Vec<String> {
        self.summary
            .kustomizations
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }
}

/// Bootstraps Flux on a simulated cluster whose Flux emulation runs:
/// install, `flux-system` GitRepository and Kustomization, wait until both
/// are Ready at `served.head`.
pub async fn flux_bootstrap(applier: &Applier, served: &Served) -> FluxReport {
    let cfg = FluxBootstrap::simulated(
        &FluxSettings {
            manifests: None,
            interval: Duration::from_secs(60),
        },
        &[],
    );
    flux::bootstrap(applier, &cfg, &served.source(), &served.head)
        .await
        .expect("flux bootstrap")
}

/// Waits until every Kustomization `flux-system/<name>` of `names` is Ready
/// at `revision`, judging each change once (never re-reading them all).
pub async fn kustomizations_ready(store: &Store, names: &[String], revision: &str) {
    let gvr = Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new(
        "kustomize.toolkit.fluxcd.io",
        "kustomizations",
    )));
    let mut waiting: BTreeSet<&str> = names.iter().map(String::as_str).collect();
    waiting.retain(|n| {
        store
            .get(&ObjectRef::namespaced(gvr.clone(), "flux-system", n))
            .map_or(true, |k| kustomization(&k, Some(revision)) != Health::Ready)
    });
    while !waiting.is_empty() {
        let d = sub.recv().await.expect("store alive");
        let o = &d.event.object;
        if o["metadata"]["namespace"] == "flux-system"
            && kustomization(o, Some(revision)) == Health::Ready
            && let Some(name) = o["metadata"]["name"].as_str()
        {
            waiting.remove(name);
        }
    }
}

/// Wall times of the iterations of one benchmark.
#[derive(Debug, Clone, Default)]
pub struct Samples(Arc<Mutex<Vec<Duration>>>);

impl Samples {
    /// Records one iteration.
    pub fn record(&self, d: Duration) {
        self.0.lock().expect("samples").push(d);
    }

    /// Sorted copy of the samples.
    pub fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.lock().expect("samples").clone();
        v.sort();
        v
    }

    /// The median (zero without samples).
    pub fn median(&self) -> Duration {
        percentile(&self.sorted(), 0.5)
    }

    /// Prints `label: median X (N unit/s) over K runs`; nothing for a
    /// benchmark that did not run (filtered out on the command line).
    pub fn report(&self, label: &str, elements: usize, unit: &str) -> Duration {
        let sorted = self.sorted();
        if sorted.is_empty() {
            return Duration::ZERO;
        }
        let m = percentile(&sorted, 0.5);
        println!(
            "{label}: median {} ({} {unit}/s) over {} runs, min {}, max {}",
            ms(m),
            thousands(per_sec(elements, m)),
            sorted.len(),
            ms(sorted.first().copied().unwrap_or_default()),
            ms(sorted.last().copied().unwrap_or_default()),
        );
        m
    }
}

/// Times `f` and records it.
pub async fn timed<T>(samples: &Samples, f: impl Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = f.await;
    let took = t.elapsed();
    samples.record(took);
    (out, took)
}

/// Nearest-rank percentile of sorted samples (`q` in 0..=1).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Elements per second.
pub fn per_sec(n: usize, d: Duration) -> f64 {
    if d.is_zero() {
        0.0
    } else {
        n as f64 / d.as_secs_f64()
    }
}

/// `1234.5 ms` / `12.3 ms` / `0.84 ms`.
pub fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else if v >= 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

/// `12,345`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The machine, for the figures: CPUs and the load average now.
pub fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!("{cpus} CPUs, load average {}", load.join(" "))
}

/// Prints the machine line once per bench binary.
pub fn print_machine(bench: &str) {
    println!("{bench}: machine: {}", machine());
}

/// Copies every file under `from` to `to`, replacing `find` with `replace`
/// in their text (a generated tree re-targeted at another namespace).
pub fn copy_replacing(from: &Path, to: &Path, find: &str, replace: &str) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_replacing(&entry.path(), &target, find, replace);
        } else {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            std::fs::write(&target, text.replace(find, replace)).expect("write");
        }
    }
}
