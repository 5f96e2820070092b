//! Detection latency: a condition flips in the simulator → the harness's
//! probe (`drill::probe::observer::Observer`, the watch-based waiter every
//! drill phase ends with) resolves. Wall time from the write that made the
//! condition true (the store's wall instant of that resourceVersion) to
//! `Observer::wait` returning, p50 and p99 in microseconds.
//!
//! - `deployment_available`: the Observer waits for `Deployment/bench/web-N`
//!   `Available=True` (a `Check::Object` steady-state check, which watches
//!   Deployments and Pods); once its watches are synced the Deployment is
//!   created and the simulated controllers (instant profile) roll it out;
//!   the flip is their status write.
//! - `kustomization_ready`: the Observer waits for Kustomization
//!   `flux-system/ks-N` Ready at a revision (a `Check::Kustomizations`
//!   check); the Flux CRDs are installed but nothing reconciles, and the
//!   bench writes the status Flux would (`Ready=True`,
//!   `lastAppliedRevision`) once the watches are synced.
//!
//! Each sample is one wait, on the virtual clock as in a drill; criterion's
//! time is the latency (so its mean is the mean latency); the percentiles
//! are printed per kind, with `Observed.lag` (the figure reports show as
//! `observe_lag_ms`) alongside. Target (issue 7): p99 < 10 ms.

#![allow(missing_docs, clippy::print_stdout)]

#[path = "support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use gameday::clock::TimeSource;
use gameday::drill::probe::checks::{Context, Healthy};
use gameday::drill::probe::observer::{GroupKind, Observed, Observer, WaitOptions};
use gameday::scenario::model::{Check, NamespacedName, ObjectRef as CheckRef};
use gameday::sim::Profile;
use gameday::sim::storage::store::{WriteOptions, conditions};
use gameday::sim::{Gvr, ObjectRef, SimCluster};
use serde_json::{Value, json};
use support::Samples;
use tokio::sync::Notify;

const REVISION: &str = "main@sha1:0123456789abcdef0123456789abcdef01234567";

struct Bench {
    cluster: SimCluster,
    observer: Observer,
    next: AtomicU64,
}

fn context(check: Check, revision: Option<&str>) -> Context {
    Context {
        checks: vec![check],
        revision: revision.map(str::to_owned),
        sync_kind: "GitRepository",
        source_namespaces: Default::default(),
        desired: Default::default(),
        baseline: None,
        lost_nodes: Default::default(),
    }
}

fn rv(o: &Value) -> u64 {
    o["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .expect("resourceVersion")
}

impl Bench {
    async fn new() -> Bench {
        let cluster = support::sim("bench", Profile::instant()).await;
        let applier = support::applier(&cluster).await;
        let mut install = gameday::gitops::apply::Manifest::generated(
            gameday::flux::install::objects(),
            "flux install manifests (simulated)",
        );
        install.push(gameday::gitops::apply::Manifest::new(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bench"}}),
        ));
        applier.apply(install).await.check().expect("Flux CRDs");
        let client = cluster.client().await.expect("client");
        Bench {
            observer: Observer::new(
                client,
                TimeSource::Stamped(std::sync::Arc::new(cluster.clone())),
            ),
            cluster,
            next: AtomicU64::new(0),
        }
    }

    /// Waits for `check`; once the Observer's watches are synced (its first
    /// judgement), runs `flip`, which returns the resourceVersion that makes
    /// the check true, or None when it will be written by a controller.
    /// Returns the Observed result and the instant `wait` returned.
    async fn wait(
        &self,
        check: Check,
        revision: Option<&str>,
        flip: impl FnOnce() -> Option<u64>,
    ) -> (Observed, Instant, Option<u64>) {
        let mut condition = Healthy(context(check, revision));
        let synced = Notify::new();
        let progress = |_: &str| synced.notify_one();
        let opts = WaitOptions {
            what: "the flipped condition".into(),
            timeout: Duration::from_secs(600),
            not_before: self.cluster.clock().now(),
            progress: Some(&progress),
        };
        let waited = async {
            let seen = self.observer.wait(&mut condition, opts).await;
            (seen, Instant::now())
        };
        let flipped = async {
            synced.notified().await;
            flip()
        };
        let ((seen, at), flip_rv) = tokio::join!(waited, flipped);
        (seen.expect("condition met"), at, flip_rv)
    }

    /// One Deployment rolled out by the simulated controllers.
    async fn deployment(&self) -> (Duration, Option<Duration>) {
        let name = format!("web-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let check = Check::Object {
            object: CheckRef {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                namespace: Some("bench".into()),
                name: name.clone(),
            },
            condition: Some("Available".into()),
        };
        let store = self.cluster.store().clone();
        let (seen, at, _) = self
            .wait(check, None, || {
                let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                    "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}},
                            "spec": {"containers": [{"name": "app", "image": gameday::gitops::synth::IMAGE}]}}}});
                store
                    .create(&Gvr::new("apps", "v1", "deployments"), Some("bench"), d, &WriteOptions::manager("bench"))
                    .expect("create Deployment");
                None
            })
            .await;
        let deployment = seen
            .world
            .get(&GroupKind::new("apps", "Deployment"), "bench", &name)
            .expect("observed Deployment");
        (self.since_write(rv(deployment), at), seen.lag)
    }

    /// One Kustomization whose status the bench writes as Flux would.
    async fn kustomization(&self) -> (Duration, Option<Duration>) {
        let name = format!("ks-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let gvr = Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
        let store = self.cluster.store().clone();
        let k = json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name, "namespace": "flux-system"},
            "spec": {"interval": "10m", "path": "./", "prune": true,
                "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}});
        store
            .create(
                &gvr,
                Some("flux-system"),
                k,
                &WriteOptions::manager("bench"),
            )
            .expect("create Kustomization");
        let check = Check::Kustomizations(Some(vec![NamespacedName {
            namespace: "flux-system".into(),
            name: name.clone(),
        }]));
        let r = ObjectRef::namespaced(gvr, "flux-system", &name);
        let (seen, at, flip) = self
            .wait(check, Some(REVISION), || {
                let now = store.now_rfc3339();
                let written = store
                    .mutate(
                        &r,
                        true,
                        &WriteOptions::manager("kustomize-controller"),
                        |o| {
                            let generation = o["metadata"]["generation"].as_i64().unwrap_or(1);
                            o["status"]["observedGeneration"] = json!(generation);
                            o["status"]["lastAppliedRevision"] = json!(REVISION);
                            o["status"]["lastAttemptedRevision"] = json!(REVISION);
                            conditions::set_condition(
                                o,
                                "Ready",
                                "True",
                                "ReconciliationSucceeded",
                                &format!("Applied revision: {REVISION}"),
                                &now,
                                Some(generation),
                            );
                            Ok(())
                        },
                    )
                    .expect("status write");
                Some(rv(&written))
            })
            .await;
        (self.since_write(flip.expect("flipped"), at), seen.lag)
    }

    fn since_write(&self, rv: u64, at: Instant) -> Duration {
        let written = self.cluster.revision_wall(rv).expect("recent revision");
        at.saturating_duration_since(written)
    }
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn report(label: &str, samples: &Samples, lags: &Samples) {
    let s = samples.sorted();
    let l = lags.sorted();
    let p = |v: &[Duration], q| micros(support::percentile(v, q));
    println!(
        "detection/{label}: p50 {} p99 {} max {} over {} samples (Observed.lag: p50 {} p99 {}); target p99 < 10 ms",
        p(&s, 0.5),
        p(&s, 0.99),
        p(&s, 1.0),
        s.len(),
        p(&l, 0.5),
        p(&l, 0.99),
    );
}

fn bench(c: &mut Criterion) {
    support::print_machine("detection");
    let rt = support::runtime();
    let bench = rt.block_on(Bench::new());
    let mut group = c.benchmark_group("detection");
    // Criterion plans iterations from the measured latency (about a
    // millisecond) while each wait costs tens of milliseconds of setup
    // (discovery, lists): a short measurement time gives a few hundred
    // samples.
    group.sample_size(10);
    if !support::quick() {
        group
            .measurement_time(Duration::from_millis(300))
            .warm_up_time(Duration::from_millis(50));
    }
    let mut lines = Vec::new();
    for kind in ["deployment_available", "kustomization_ready"] {
        let (samples, lags) = (Samples::default(), Samples::default());
        group.bench_function(kind, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (bench, samples, lags) = (&bench, samples.clone(), lags.clone());
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let (took, lag) = match kind {
                            "deployment_available" => bench.deployment().await,
                            _ => bench.kustomization().await,
                        };
                        samples.record(took);
                        if let Some(lag) = lag {
                            lags.record(lag);
                        }
                        total += took;
                    }
                    total
                }
            });
        });
        lines.push((kind, samples, lags));
    }
    group.finish();
    for (kind, samples, lags) in lines {
        report(kind, &samples, &lags);
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
