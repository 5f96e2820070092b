//! The cluster handle: [`SimCluster`], one running simulated cluster
//! (store, API server, credentials, kubeconfig, the simulated controllers),
//! started from its [`SimOptions`], and the fault hooks drills break it
//! with ([`faults`]: API outages, injected errors, watch-history
//! compaction, closed watches, destruction, lost nodes).

pub mod faults;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::{Error, Result};
use crate::clock::Clock;
use crate::sim::Profile;
use crate::sim::apiserver::inject::ErrorInjector;
use crate::sim::apiserver::kubeconfig::{self, KubeconfigSpec};
use crate::sim::apiserver::list::Snapshots;
use crate::sim::apiserver::listener::Listener;
use crate::sim::apiserver::server::{ApiState, KubeVersion, ServerConfig};
use crate::sim::apiserver::tls::{self, Credentials};
use crate::sim::storage::kinds::Registry;
use crate::sim::storage::lifecycle;
use crate::sim::storage::status::ApiResult;
use crate::sim::storage::store::{Gvr, ObjectRef, Store, StoreOptions, WriteOptions, conditions};
use crate::sim::workloads::controllers::{self, ControllerConfig, ControllerHandle, Controllers};
use crate::sim::workloads::nodes;

/// Called at start, after the system namespaces exist and before the API
/// accepts requests: where the controllers register and nodes are created.
pub type StartHook = Arc<dyn Fn(&Store, &SimOptions) -> ApiResult<()> + Send + Sync>;

/// How to start a simulated cluster.
#[derive(Clone)]
pub struct SimOptions {
    /// Cluster name (kubeconfig context `sim-<name>`).
    pub name: String,
    /// The clock timestamps and latencies use (virtual in drills).
    pub clock: Clock,
    /// HTTPS with CA and token (default); false = plain HTTP, no auth.
    pub tls: bool,
    /// Port on 127.0.0.1 (random when None).
    pub port: Option<u16>,
    /// What `/version` reports (default v1.33.0).
    pub kubernetes_version: KubeVersion,
    /// Idle time before a watch BOOKMARK (default 60 s).
    pub bookmark_interval: Duration,
    /// Events kept for watch resumption.
    pub history_capacity: usize,
    /// Seed of every random choice (names, uids, controller jitter).
    pub seed: u64,
    /// Latency profile of the simulated controllers (default
    /// [`Profile::instant`]).
    pub profile: Profile,
    /// Number of nodes created at start, named as kind names them (one
    /// control plane, the rest workers; 0 = none).
    pub nodes: usize,
    /// What the image registry holds (default: open, every image pulls).
    /// A drill shares one between its clusters and seals it at the
    /// disaster.
    pub images: crate::sim::workloads::images::Contents,
    /// Start hooks, run in order.
    pub hooks: Vec<StartHook>,
}

impl std::fmt::Debug for SimOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimOptions")
            .field("name", &self.name)
            .field("tls", &self.tls)
            .field("port", &self.port)
            .field("profile", &self.profile.name)
            .field("nodes", &self.nodes)
            .field("seed", &self.seed)
            .field("hooks", &self.hooks.len())
            .finish_non_exhaustive()
    }
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            name: "sim".to_owned(),
            clock: Clock::wall(),
            tls: true,
            port: None,
            kubernetes_version: KubeVersion::default(),
            bookmark_interval: Duration::from_secs(60),
            history_capacity: StoreOptions::default().history_capacity,
            seed: 0,
            profile: Profile::instant(),
            nodes: 1,
            images: crate::sim::workloads::images::Contents::default(),
            hooks: Vec::new(),
        }
    }
}

impl SimOptions {
    /// Defaults with a name and a clock.
    pub fn new(name: &str, clock: Clock) -> Self {
        SimOptions {
            name: name.to_owned(),
            clock,
            ..SimOptions::default()
        }
    }

    /// Adds a start hook.
    pub fn hook(
        mut self,
        f: impl Fn(&Store, &SimOptions) -> ApiResult<()> + Send + Sync + 'static,
    ) -> Self {
        self.hooks.push(Arc::new(f));
        self
    }
}

/// The namespaces every cluster starts with.
pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// A running simulated cluster. Cheap to clone; clones share it.
#[derive(Clone)]
pub struct SimCluster {
    inner: Arc<Inner>,
}

struct Inner {
    options: SimOptions,
    store: Store,
    listener: Listener,
    faults: ErrorInjector,
    creds: Option<Credentials>,
    lifecycle: JoinHandle<()>,
    /// Taken out on shutdown and destroy.
    controllers: Mutex<Option<Controllers>>,
    handle: ControllerHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.lifecycle.abort();
    }
}

impl std::fmt::Debug for SimCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimCluster({} at {})",
            self.inner.options.name,
            self.url()
        )
    }
}

impl SimCluster {
    /// Starts a cluster: store with the system namespaces, the nodes and the
    /// `default/kubernetes` Service, start hooks, lifecycle controllers, the
    /// simulated controllers (see [`crate::sim::workloads::controllers`]), then the API
    /// listener.
    ///
    /// # Errors
    /// TLS generation, a start hook, or binding the port failed.
    pub async fn start(options: SimOptions) -> Result<SimCluster> {
        let store = Store::new(
            Registry::with_builtins(),
            options.clock.clone(),
            StoreOptions {
                history_capacity: options.history_capacity,
                seed: options.seed,
            },
        );
        let _busy = store.busy();
        for ns in SYSTEM_NAMESPACES {
            store.create(
                &Gvr::core("namespaces"),
                None,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
                &WriteOptions::manager("kube-apiserver"),
            )?;
        }
        if options.nodes > 0 {
            let count = u32::try_from(options.nodes).unwrap_or(u32::MAX);
            nodes::create_nodes(
                &store,
                &options.name,
                count,
                &options.profile,
                &options.kubernetes_version.git_version(),
            )?;
        }
        controllers::ensure_kubernetes_service(&store)?;
        for hook in &options.hooks {
            hook(&store, &options)?;
        }
        let lifecycle = lifecycle::spawn(store.clone());
        let sim = Controllers::start(
            store.clone(),
            ControllerConfig {
                cluster: options.name.clone(),
                images: options.images.clone(),
                ..ControllerConfig::new(options.profile.clone(), options.seed)
            },
        );
        let handle = sim.handle();
        let creds = if options.tls {
            Some(tls::generate(&options.name)?)
        } else {
            None
        };
        let server_tls = creds.as_ref().map(tls::server_config).transpose()?;
        let faults = ErrorInjector::default();
        let state = Arc::new(ApiState {
            store: store.clone(),
            config: ServerConfig {
                token: creds.as_ref().map(|c| c.token.clone()),
                version: options.kubernetes_version.clone(),
                bookmark_interval: options.bookmark_interval,
                address: "127.0.0.1:0".to_owned(),
            },
            faults: faults.clone(),
            snapshots: Snapshots::default(),
            in_flight: crate::sim::apiserver::limits::InFlight::default(),
        });
        let listener = Listener::new(state, server_tls, options.port.unwrap_or(0));
        listener.start().await?;
        Ok(SimCluster {
            inner: Arc::new(Inner {
                options,
                store,
                listener,
                faults,
                creds,
                lifecycle,
                controllers: Mutex::new(Some(sim)),
                handle,
            }),
        })
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.inner.options.name
    }

    /// The options it was started with.
    pub fn options(&self) -> &SimOptions {
        &self.inner.options
    }

    /// The API port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.inner.listener.port()
    }

    /// `https://127.0.0.1:<port>` (or `http://` when insecure).
    pub fn url(&self) -> String {
        let scheme = if self.inner.creds.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port())
    }

    /// The bearer token (None when insecure).
    pub fn token(&self) -> Option<&str> {
        self.inner.creds.as_ref().map(|c| c.token.as_str())
    }

    /// The CA certificate PEM (None when insecure).
    pub fn ca_pem(&self) -> Option<&str> {
        self.inner.creds.as_ref().map(|c| c.ca_pem.as_str())
    }

    /// The kubeconfig YAML (context/cluster/user `sim-<name>`).
    pub fn kubeconfig_yaml(&self) -> String {
        let url = self.url();
        kubeconfig::render(&KubeconfigSpec {
            name: self.name(),
            server: &url,
            ca_pem: self.ca_pem(),
            token: self.token(),
        })
    }

    /// Writes the kubeconfig with mode 0600.
    ///
    /// # Errors
    /// [`Error::Kubeconfig`] on I/O failure.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<()> {
        kubeconfig::write(path, &self.kubeconfig_yaml())
    }

    /// A kube-rs client for this cluster (through its kubeconfig).
    ///
    /// # Errors
    /// [`Error::Client`] when kube-rs rejects the configuration.
    pub async fn client(&self) -> Result<kube::Client> {
        let kc = kube::config::Kubeconfig::from_yaml(&self.kubeconfig_yaml())
            .map_err(|e| Error::Client(e.to_string()))?;
        let cfg =
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|e| Error::Client(e.to_string()))?;
        kube::Client::try_from(cfg).map_err(|e| Error::Client(e.to_string()))
    }

    /// The object store (the in-process API).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The cluster's clock.
    pub fn clock(&self) -> &Clock {
        self.inner.store.clock()
    }

    /// The clock time at which revision `rv` was written.
    pub fn revision_time(&self, rv: u64) -> Option<jiff::Timestamp> {
        self.inner.store.revision_time(rv)
    }

    /// The wall-clock instant a recent revision was written.
    pub fn revision_wall(&self, rv: u64) -> Option<std::time::Instant> {
        self.inner.store.revision_wall(rv)
    }

    /// Creates a Ready Node named `name` (a convenience for tests and start
    /// hooks; the simulated controllers own node lifecycle).
    ///
    /// # Errors
    /// As [`Store::create`].
    pub fn add_node(&self, name: &str, labels: Value) -> ApiResult<Arc<Value>> {
        add_node(
            &self.inner.store,
            name,
            labels,
            &self.inner.options.kubernetes_version.git_version(),
        )
    }

    pub(crate) fn listener(&self) -> &Listener {
        &self.inner.listener
    }

    pub(crate) fn faults(&self) -> &ErrorInjector {
        &self.inner.faults
    }

    /// The simulated controllers (node fault hooks).
    pub fn controllers(&self) -> &ControllerHandle {
        &self.inner.handle
    }

    /// Stops the simulated controllers at once (the cluster is gone).
    pub(crate) fn abort_controllers(&self) {
        let c = self
            .inner
            .controllers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(c);
    }

    /// Stops serving and the background controllers.
    pub async fn shutdown(&self) {
        self.inner.listener.stop().await;
        self.inner.lifecycle.abort();
        let c = self
            .inner
            .controllers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(c) = c {
            c.stop().await;
        }
    }
}

/// Creates a Ready Node (see [`SimCluster::add_node`]).
///
/// # Errors
/// As [`Store::create`].
pub fn add_node(
    store: &Store,
    name: &str,
    labels: Value,
    kubelet_version: &str,
) -> ApiResult<Arc<Value>> {
    let gvr = Gvr::core("nodes");
    let mut labels = if labels.is_object() {
        labels
    } else {
        json!({})
    };
    labels["kubernetes.io/hostname"] = json!(name);
    labels["kubernetes.io/os"] = json!("linux");
    store.create(&gvr, None, json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "spec": {}}), &WriteOptions::manager("kubelet"))?;
    let now = store.now_rfc3339();
    store.mutate(&ObjectRef::cluster(gvr, name), true, &WriteOptions::manager("kubelet"), |o| {
        o["status"] = json!({"capacity": {"cpu": "8", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "8", "memory": "16Gi", "pods": "110"},
            "nodeInfo": {"kubeletVersion": kubelet_version, "architecture": "amd64", "operatingSystem": "linux", "containerRuntimeVersion": "containerd://2.0.0"}});
        conditions::set_condition(o, "Ready", "True", "KubeletReady", "kubelet is posting ready status", &now, None);
        Ok(())
    })
}

impl crate::clock::Stamps for SimCluster {
    fn clock(&self) -> &Clock {
        SimCluster::clock(self)
    }

    fn time_of(&self, revision: u64) -> Option<jiff::Timestamp> {
        self.revision_time(revision)
    }

    fn wall_of(&self, revision: u64) -> Option<std::time::Instant> {
        self.revision_wall(revision)
    }

    fn writes(
        &self,
        group: &str,
        plural: &str,
    ) -> futures::stream::BoxStream<'static, (u64, crate::clock::Busy)> {
        use futures::StreamExt;
        // Subscribed now, so no write after this call is missed.
        let sub = self
            .store()
            .subscribe(crate::sim::storage::store::EventFilter::resource(
                crate::sim::storage::resource::GroupResource::new(group, plural),
            ));
        futures::stream::unfold(sub, |mut sub| async move {
            let d = sub.recv().await?;
            Some(((d.event.revision, d.busy), sub))
        })
        .boxed()
    }
}
