//! A simulated cluster with Flux emulation, a served fixture repository,
//! and helpers to bootstrap and wait.
#![allow(dead_code)]

use std::time::Duration;

use gameday::clock::Clock;
use gameday::gitops::apply::{Applier, ApplyOptions};
use gameday::gitops::bootstrap::SyncSource;
use gameday::gitops::bootstrap::direct::{self, DirectConfig, DirectReconciler};
use gameday::gitops::bootstrap::flux::{self, FluxBootstrap, FluxReport};
use gameday::gitops::repo::{FixtureOptions, GitRef, Repo};
use gameday::gitops::serve::{GitServer, ServeOptions};
use gameday::scenario::model::{DirectSettings, FluxSettings};
use gameday::sim::Profile;
use gameday::sim::SimOptions;
use gameday::sim::flux::{FluxEmulation, FluxOptions};
use gameday::sim::storage::store::{Gvr, ObjectRef};
use kube::api::{Api, DynamicObject};
use kube::core::discovery::ApiResource;
use serde_json::Value;

use crate::fixture;
use crate::testbed::{Testbed, epoch};

/// A cluster, its Flux emulation, a repository and its server.
pub struct World {
    pub tb: Testbed,
    pub flux: FluxEmulation,
    pub repo: Repo,
    pub server: GitServer,
    pub applier: Applier,
}

/// Whether the real `helm` is there (required in CI; else the test says
/// it is skipped).
pub fn helm_installed() -> bool {
    let found = gameday::process::Lookup::default().find("helm").is_ok();
    if !found && std::env::var_os("CI").is_some() {
        panic!("helm is required in CI (make tools installs it)");
    }
    if !found {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("\n!!! SKIPPED: the real helm is needed\n");
        }
    }
    found
}

pub fn kustomizations() -> ApiResource {
    ApiResource {
        group: "kustomize.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
        kind: "Kustomization".into(),
        plural: "kustomizations".into(),
    }
}

pub fn git_repositories() -> ApiResource {
    ApiResource {
        group: "source.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "source.toolkit.fluxcd.io/v1".into(),
        kind: "GitRepository".into(),
        plural: "gitrepositories".into(),
    }
}

impl World {
    /// A cluster on a virtual clock with `profile`, and `fixture` served.
    pub async fn new(fixture_name: &str, profile: Profile) -> World {
        let repo = Repo::from_fixture(&fixture(fixture_name), &FixtureOptions::default())
            .await
            .expect("fixture repository");
        World::with_repo(repo, fixture_name, profile).await
    }

    /// A cluster with `repo` served as `name`.
    pub async fn with_repo(repo: Repo, name: &str, profile: Profile) -> World {
        World::with_flux(repo, name, profile, FluxOptions::default()).await
    }

    /// A cluster with `repo` served as `name`, Flux emulated with `options`.
    pub async fn with_flux(
        repo: Repo,
        name: &str,
        profile: Profile,
        options: FluxOptions,
    ) -> World {
        let tb = Testbed::with(SimOptions {
            profile,
            ..SimOptions::new("flux", Clock::simulated(epoch()))
        })
        .await;
        let flux = tb
            .cluster
            .enable_flux(options)
            .await
            .expect("flux emulation starts");
        let server = GitServer::serve(repo.path(), name, ServeOptions::default())
            .await
            .expect("git server");
        let applier = tb.applier(ApplyOptions::default()).await;
        World {
            tb,
            flux,
            repo,
            server,
            applier,
        }
    }

    pub fn source(&self, path: &str) -> SyncSource {
        SyncSource {
            url: self.server.url(),
            reference: GitRef::branch("main"),
            path: path.to_owned(),
            artifact: None,
        }
    }

    pub async fn head(&self) -> String {
        self.repo.head().await.expect("head").to_string()
    }

    /// Bootstraps Flux the simulator's way.
    pub async fn bootstrap(
        &self,
        path: &str,
    ) -> Result<FluxReport, gameday::gitops::bootstrap::Error> {
        let head = self.head().await;
        self.bootstrap_from(&self.source(path), &head).await
    }

    /// Bootstraps Flux the simulator's way, following `source` until its
    /// sync objects reach `revision`.
    pub async fn bootstrap_from(
        &self,
        source: &SyncSource,
        revision: &str,
    ) -> Result<FluxReport, gameday::gitops::bootstrap::Error> {
        let cfg = FluxBootstrap::simulated(
            &FluxSettings {
                manifests: None,
                interval: Duration::from_secs(60),
            },
            &[],
        );
        // The harness holds simulated time still while it acts; the
        // bootstrap lets it run only while it waits.
        let busy = self.tb.clock().busy();
        let running = flux::bootstrap(&self.applier, &cfg, source, revision);
        drop(busy);
        running.await
    }

    /// Waits (cluster clock) until every node is Ready, as `kind create
    /// cluster --wait` does.
    pub async fn wait_nodes_ready(&self) {
        let store = self.tb.cluster.store().clone();
        let clock = self.tb.clock();
        let mut sub = store.subscribe(gameday::sim::storage::store::EventFilter::all());
        let ready = |store: &gameday::sim::Store| {
            store
                .list(&Gvr::core("nodes"), None, &Default::default())
                .is_ok_and(|l| {
                    l.items.iter().all(|n| {
                        gameday::sim::storage::store::conditions::condition_status(n, "Ready")
                            == Some("True")
                    })
                })
        };
        let done = clock
            .timeout(Duration::from_secs(600), async {
                while !ready(&store) {
                    match sub.recv().await {
                        Some(d) => drop(d.busy),
                        None => return,
                    }
                }
            })
            .await;
        assert!(done.is_ok(), "nodes not ready");
    }

    /// Bootstraps with the direct method (interval `interval`, prune on).
    pub async fn direct(
        &self,
        path: &str,
        interval: Duration,
    ) -> Result<DirectReconciler, gameday::gitops::bootstrap::Error> {
        let config = DirectConfig {
            interval,
            ..DirectConfig::from_settings(&DirectSettings {
                interval,
                prune: true,
                concurrency: 16,
                namespace: "default".into(),
            })
        };
        direct::bootstrap(
            &self.applier,
            self.source(path),
            config,
            &[],
            Duration::from_secs(300),
        )
        .await
    }

    /// Whether an object exists (through the store).
    pub fn exists(&self, gvr: &Gvr, namespace: &str, name: &str) -> bool {
        self.tb
            .cluster
            .store()
            .get(&ObjectRef::namespaced(gvr.clone(), namespace, name))
            .is_ok()
    }

    /// Deletes an object (through the API, as a person would) with
    /// simulated time held still, and returns the simulated time of the
    /// deletion.
    pub async fn delete(&self, gvr: &Gvr, namespace: &str, name: &str) -> jiff::Timestamp {
        let clock = self.tb.clock();
        let _busy = clock.busy();
        self.tb
            .kubectl(&[
                "delete",
                &resource_arg(gvr),
                name,
                "-n",
                namespace,
                "--wait=false",
            ])
            .await;
        clock.now()
    }

    /// Waits (cluster clock) until an object is gone (its finalizers done).
    pub async fn wait_gone(&self, gvr: &Gvr, namespace: &str, name: &str, timeout: Duration) {
        let clock = self.tb.clock();
        let store = self.tb.cluster.store().clone();
        let mut sub = store.subscribe(gameday::sim::storage::store::EventFilter::all());
        let r = ObjectRef::namespaced(gvr.clone(), namespace, name);
        let gone = clock
            .timeout(timeout, async {
                while store.get(&r).is_ok() {
                    match sub.recv().await {
                        Some(d) => drop(d.busy),
                        None => return,
                    }
                }
            })
            .await;
        assert!(
            gone.is_ok() && store.get(&r).is_err(),
            "{namespace}/{name} was not deleted within {timeout:?}"
        );
    }

    /// Waits (cluster clock) until an object exists; returns the simulated
    /// time that took.
    pub async fn wait_exists(
        &self,
        gvr: &Gvr,
        namespace: &str,
        name: &str,
        timeout: Duration,
    ) -> Duration {
        let clock = self.tb.clock();
        let start = clock.now();
        let store = self.tb.cluster.store().clone();
        let mut sub = store.subscribe(gameday::sim::storage::store::EventFilter::all());
        if self.exists(gvr, namespace, name) {
            return Duration::ZERO;
        }
        let r = ObjectRef::namespaced(gvr.clone(), namespace, name);
        let found = clock
            .timeout(timeout, async {
                while let Some(d) = sub.recv().await {
                    if store.get(&r).is_ok() {
                        return;
                    }
                    drop(d.busy);
                }
            })
            .await;
        assert!(
            found.is_ok(),
            "{namespace}/{name} did not come back within {timeout:?}"
        );
        clock.since(start)
    }

    /// Waits (cluster clock) until the Flux object `gvr` flux-system/`name`
    /// has `Ready` with `reason`; returns the object.
    pub async fn wait_reason(
        &self,
        gvr: &Gvr,
        name: &str,
        reason: &str,
        timeout: Duration,
    ) -> Value {
        self.wait_until(gvr, name, &format!("reason {reason}"), timeout, |o| {
            ready(o).1 == reason
        })
        .await
    }

    /// Waits (cluster clock) until the Flux object `gvr` flux-system/`name`
    /// satisfies `done` (described by `what`); returns the object, read
    /// while simulated time is held still.
    pub async fn wait_until(
        &self,
        gvr: &Gvr,
        name: &str,
        what: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let store = self.tb.cluster.store().clone();
        let clock = self.tb.clock();
        let mut sub = store.subscribe(gameday::sim::storage::store::EventFilter::all());
        let r = ObjectRef::namespaced(gvr.clone(), "flux-system", name);
        let current = |store: &gameday::sim::Store| store.get(&r).ok().map(|o| (*o).clone());
        let done = clock
            .timeout(timeout, async {
                loop {
                    if let Some(o) = current(&store)
                        && done(&o)
                    {
                        return o;
                    }
                    match sub.recv().await {
                        Some(d) => drop(d.busy),
                        None => std::future::pending::<()>().await,
                    }
                }
            })
            .await;
        match done {
            Ok(o) => o,
            Err(_) => panic!(
                "{name} never got {what}: {:#}",
                current(&store).unwrap_or_default()
            ),
        }
    }

    pub async fn kustomization(&self, name: &str) -> Value {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.tb.client().await, "flux-system", &kustomizations());
        serde_json::to_value(api.get(name).await.expect("kustomization exists")).unwrap()
    }

    pub async fn git_repository(&self, name: &str) -> Value {
        let api: Api<DynamicObject> =
            Api::namespaced_with(self.tb.client().await, "flux-system", &git_repositories());
        serde_json::to_value(api.get(name).await.expect("gitrepository exists")).unwrap()
    }

    /// Waits (cluster clock) until every named Kustomization is Ready at
    /// the head revision; returns the simulated time at which they were
    /// (read with time held still).
    pub async fn wait_kustomizations(&self, names: &[&str], timeout: Duration) -> jiff::Timestamp {
        use gameday::kstatus::{Health, kustomization};
        let head = self.head().await;
        let store = self.tb.cluster.store().clone();
        let clock = self.tb.clock();
        let mut sub = store.subscribe(gameday::sim::storage::store::EventFilter::all());
        let gvr = Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
        let pending = |store: &gameday::sim::Store| -> Vec<String> {
            names
                .iter()
                .filter_map(|n| {
                    match store.get(&ObjectRef::namespaced(gvr.clone(), "flux-system", n)) {
                        Ok(k) => match kustomization(&k, Some(&head)) {
                            Health::Ready => None,
                            other => Some(format!("{n}: {other:?}")),
                        },
                        Err(_) => Some(format!("{n}: missing")),
                    }
                })
                .collect()
        };
        let done = clock
            .timeout(timeout, async {
                let _busy = clock.busy();
                if pending(&store).is_empty() {
                    return clock.now();
                }
                drop(_busy);
                loop {
                    // Check while the event's guard holds time still.
                    let Some(d) = sub.recv().await else {
                        return std::future::pending().await;
                    };
                    if pending(&store).is_empty() {
                        let at = clock.now();
                        drop(d.busy);
                        return at;
                    }
                    drop(d.busy);
                }
            })
            .await;
        match done {
            Ok(at) => at,
            Err(_) => panic!("Kustomizations not ready at {head}: {:?}", pending(&store)),
        }
    }
}

/// The Ready condition of an object as (status, reason, message).
pub fn ready(obj: &Value) -> (String, String, String) {
    let c = obj["status"]["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
        .cloned()
        .unwrap_or_default();
    let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    (s("status"), s("reason"), s("message"))
}

/// `configmaps`, `deployments.apps`… for kubectl.
pub fn resource_arg(gvr: &Gvr) -> String {
    if gvr.group.is_empty() {
        gvr.resource.clone()
    } else {
        format!("{}.{}", gvr.resource, gvr.group)
    }
}

pub fn configmaps() -> Gvr {
    Gvr::core("configmaps")
}

pub fn deployments() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}
