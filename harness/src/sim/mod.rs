//! The embedded Kubernetes API simulator.
//!
//! A Kubernetes API server in-process, faithful enough that kube-rs and
//! `kubectl` work against it unchanged.
//!
//! Start one with [`SimCluster::start`] ([`SimOptions`]: name, clock, TLS,
//! port, version, bookmark interval, seed/profile/nodes for the simulated
//! controllers, start hooks). It serves HTTPS on 127.0.0.1 with a
//! per-cluster CA and bearer token ([`SimCluster::kubeconfig_yaml`],
//! [`SimCluster::write_kubeconfig`], [`SimCluster::client`]); controllers
//! use the in-process API of [`SimCluster::store`] (see [`store`]). Fault
//! hooks for drills are in [`faults`]: `stop_api`/`start_api` (outage on
//! the same port), `inject_error` (429/500/503/504 on route globs),
//! `compact`, `close_watches`, `destroy`. [`serve`] is `gameday sim serve`.
//!
//! The pieces, by concept:
//!
//! - [`store`]: objects, revisions, history, events — and the in-process
//!   API the simulated controllers use (start there);
//! - [`registry`]: built-in and CRD-defined resource types; [`crd`];
//! - [`selectors`], [`patch`], [`ownership`] (managedFields and
//!   server-side apply), [`defaults`];
//! - [`status`]: API errors and their `Status` bodies;
//! - [`resource`]: type and object identity;
//! - [`lifecycle`]: namespace finalization, garbage collection, CRD cleanup;
//! - [`http`]: routing, verbs, list/watch, [`discovery`], [`openapi`],
//!   [`table`] (with [`jsonpath`]), [`protobuf`] request bodies;
//! - [`tls`], [`kubeconfig`], [`cluster`], [`faults`], [`serve`].

pub mod cluster;
pub mod control;
pub mod controllers;
pub mod crd;
pub mod defaults;
pub mod discovery;
pub mod faults;
pub mod flux;
pub mod http;
pub mod jitter;
pub mod jsonpath;
pub mod kubeconfig;
pub mod lifecycle;
pub mod nodes;
pub mod openapi;
pub mod ownership;
pub mod patch;
pub mod profile;
pub mod protobuf;
pub mod registry;
pub mod registry_images;
pub mod resource;
pub mod selectors;
pub mod serve;
pub mod stages;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;

pub use cluster::{SimCluster, SimOptions};
pub use faults::{ErrorRule, RuleId};
pub use http::server::KubeVersion;
pub use resource::{GroupResource, Gvr, ObjectRef};
pub use status::{ApiError, ApiResult, Reason};
pub use store::Store;

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
    Control(#[from] control::Error),
    /// Waiting for a shutdown signal failed.
    #[error("could not install the signal handler")]
    Signal(#[source] std::io::Error),
}

/// The result type of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
