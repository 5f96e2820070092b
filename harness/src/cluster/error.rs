//! Why a cluster operation failed: one variant per provider (each keeps
//! its own error as the source) and the failures every provider shares.

use std::path::PathBuf;

use super::providers::{existing, kind, terraform};

/// Errors of cluster operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The simulator failed to start or stop.
    #[error("simulated cluster {name}: {source}")]
    Sim {
        /// Cluster name.
        name: String,
        /// Why.
        #[source]
        source: crate::sim::Error,
    },
    /// The Flux emulation could not start.
    #[error("simulated cluster {name}: Flux emulation: {message}")]
    Flux {
        /// Cluster name.
        name: String,
        /// Why.
        message: String,
    },
    /// A node fault failed.
    #[error("cluster {name}: {source}")]
    Node {
        /// Cluster name.
        name: String,
        /// Why.
        #[source]
        source: crate::sim::workloads::controllers::NodeFaultError,
    },
    /// The provider cannot do this (validation should have refused it).
    #[error("provider {provider} cannot {what}")]
    Unsupported {
        /// Provider name.
        provider: &'static str,
        /// The operation.
        what: &'static str,
    },
    /// The kind provider failed.
    #[error(transparent)]
    Kind(#[from] kind::Error),
    /// The existing provider refused or failed.
    #[error(transparent)]
    Existing(#[from] existing::Error),
    /// The terraform provider failed.
    #[error(transparent)]
    Terraform(#[from] terraform::Error),
    /// The cluster's nodes cannot reach a Git server on this machine.
    #[error(
        "the {provider} cluster cannot fetch a repository served from this machine: {why}; give spec.source.url (a Git remote the cluster can reach) instead of spec.source.fixture"
    )]
    SourceUnreachable {
        /// The provider.
        provider: &'static str,
        /// Why.
        why: String,
    },
    /// The cluster's API never answered.
    #[error("the API server of cluster {name} did not answer within {}", humantime::format_duration(*.after))]
    Unreachable {
        /// The cluster.
        name: String,
        /// How long gameday waited.
        after: std::time::Duration,
        /// The last error.
        #[source]
        source: kube::Error,
    },
    /// Writing the kubeconfig or run files failed.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;
