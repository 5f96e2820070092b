//! The embedded Kubernetes API simulator.
//!
//! A Kubernetes API server in-process, faithful enough that kube-rs and
//! `kubectl` work against it unchanged.
//!
//! Start one with [`SimCluster::start`] ([`SimOptions`]: name, clock, TLS,
//! port, version, bookmark interval, seed/[`Profile`]/nodes for the
//! simulated controllers, start hooks). It serves HTTPS on 127.0.0.1 with a
//! per-cluster CA and bearer token ([`SimCluster::kubeconfig_yaml`],
//! [`SimCluster::write_kubeconfig`], [`SimCluster::client`]); controllers
//! use the in-process API of [`SimCluster::store`] (see [`storage::store`]).
//!
//! The folders, by what a reader looks for:
//!
//! - [`cluster`]: the handle — [`SimCluster`], [`SimOptions`] — and its
//!   fault hooks for drills ([`cluster::faults`]: `stop_api`/`start_api`
//!   (outage on the same port), `inject_error` (429/500/503/504 on route
//!   globs), `compact`, `close_watches`, `destroy`, losing and restoring
//!   nodes);
//! - [`apiserver`]: what speaks HTTP — routing, the verbs, list/watch,
//!   discovery, OpenAPI, `kubectl get` tables, protobuf request bodies, TLS,
//!   kubeconfigs, `gameday sim serve` and its fault-command socket;
//! - [`storage`]: what the API server stores and how — the [`Store`]
//!   (objects, revisions, history, events, and the in-process API the
//!   simulated controllers use: start there), the resource types it serves
//!   ([`storage::kinds`], CRDs), selectors, patches, field ownership
//!   (managedFields, server-side apply), defaults, API errors
//!   ([`ApiError`]), identities ([`Gvr`], [`ObjectRef`]) and the API
//!   server's own background work (namespace finalization, the
//!   ownerReference garbage collector, CRD cleanup);
//! - [`workloads`]: the simulated kube-controller-manager, scheduler and
//!   kubelets — controllers, lifecycle stages as data, latency
//!   [`Profile`]s with seeded jitter, Nodes, the image registry;
//! - [`flux`]: Flux's controllers, emulated (source, kustomize, and the
//!   tofu-controller's `Terraform`), on one reconcile skeleton.
//!
//! - [`recorder`]: the Event recorder every simulated component shares
//!   (client-go's aggregation and deduplication, on the simulated clock).
//!
//! Inside, code points down the same way: `storage` uses none of the
//! others; `recorder` uses only `storage`; `workloads` uses `storage` and
//! `recorder`; `apiserver` serves `storage`
//! (its `serve` and `control` start and drive a whole cluster); `cluster`
//! assembles the three; `flux` runs on a started cluster.

pub mod apiserver;
pub mod cluster;
pub mod flux;
pub mod from_source;
pub mod recorder;
pub mod storage;
pub mod workloads;

pub use apiserver::inject::{ErrorRule, RuleId};
pub use apiserver::server::KubeVersion;
pub use cluster::{SimCluster, SimOptions};
pub use storage::resource::{GroupResource, Gvr, ObjectRef};
pub use storage::status::{ApiError, ApiResult, Reason};
pub use storage::store::Store;
pub use workloads::profile::Profile;

/// Errors of starting and running a simulated cluster.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listener could not bind.
    #[error(
        "could not listen on 127.0.0.1:{port}: {source}; choose another port (or none, for a random one)"
    )]
    Bind {
        /// The port asked for (0 = random).
        port: u16,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Certificate generation failed.
    #[error("could not generate the simulator's TLS certificates")]
    Tls(#[source] rcgen::Error),
    /// rustls refused the configuration.
    #[error("could not configure TLS for the simulator")]
    Rustls(#[source] rustls::Error),
    /// Writing the kubeconfig failed.
    #[error("could not write the kubeconfig {}: {source}", path.display())]
    Kubeconfig {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `sim serve --kubeconfig` names a file that exists.
    #[error("the kubeconfig {} already exists; {fix}", path.display())]
    KubeconfigExists {
        /// The file.
        path: std::path::PathBuf,
        /// What to do.
        fix: String,
    },
    /// `sim serve --kubeconfig` names a file in a folder that does not exist.
    #[error(
        "the kubeconfig {}: its folder {} does not exist; create it (mkdir -p {}) or choose another --kubeconfig",
        path.display(), dir.display(), dir.display()
    )]
    KubeconfigFolder {
        /// The file.
        path: std::path::PathBuf,
        /// Its missing folder.
        dir: std::path::PathBuf,
    },
    /// kube-rs could not be configured for the cluster.
    #[error("could not build a Kubernetes client for the simulator: {0}")]
    Client(String),
    /// An API call failed (e.g. in a start hook).
    #[error("simulator API call failed")]
    Api(#[from] ApiError),
    /// The Flux emulation could not start.
    #[error("could not start the Flux emulation")]
    Flux(#[source] Box<flux::Error>),
    /// The control socket could not be served.
    #[error(transparent)]
    Control(#[from] apiserver::control::Error),
    /// Bootstrapping from a repository failed (`sim serve --source`).
    #[error("could not bootstrap the simulated cluster from its source")]
    FromSource(#[source] Box<from_source::Error>),
    /// Waiting for a shutdown signal failed.
    #[error("could not install the signal handler")]
    Signal(#[source] std::io::Error),
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
