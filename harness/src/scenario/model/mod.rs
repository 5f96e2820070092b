//! The internal scenario model: what the engine runs.
//!
//! Every default is applied, every path is absolute, every choice the file
//! leaves open is decided. Nothing here knows about file versions.
//!
//! The sections mirror the file format's: this module holds [`Scenario`],
//! then one file each for the cluster, the source, the bootstrap, the
//! steady state and its checks, the setup steps, the disaster's faults, the
//! recovery (with its timed phases), the RTO and the allowed losses, plus
//! the object references several sections share. Every type is re-exported
//! here, so `model::Fault` is the path to use.

pub mod bootstrap;
mod cluster;
mod disaster;
mod expect;
mod object;
mod recovery;
mod rto;
mod setup;
mod source;
mod steady_state;

use std::path::PathBuf;

use serde::Serialize;

pub use bootstrap::{Bootstrap, BootstrapMethod, DirectSettings, FluxSettings, SecretSource};
pub use cluster::{
    Cluster, ExistingSettings, KindSettings, Provider, SimProfile, SimSettings, TerraformSettings,
};
pub use disaster::{Fault, FaultKind, FileChange, ResourceTarget};
pub use expect::Expect;
pub use object::{NamespacedName, ObjectRef};
pub use recovery::{Phase, Recovery, RecoveryMethod};
pub use rto::{Quantile, Rto};
pub use setup::SetupStep;
pub use source::{GitRef, Source, SourceLocation};
pub use steady_state::{Check, SteadyState};

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// The file it was loaded from.
    pub file: PathBuf,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.description` (empty when absent).
    pub description: String,
    /// The cluster.
    pub cluster: Cluster,
    /// The Git source.
    pub source: Source,
    /// Offline mirrors of remote URLs (simulator only).
    pub mirrors: crate::gitops::mirror::Mirrors,
    /// How the cluster is bootstrapped.
    pub bootstrap: Bootstrap,
    /// What "healthy" means.
    pub steady_state: SteadyState,
    /// Steps before the snapshot.
    pub setup: Vec<SetupStep>,
    /// Faults, in order (at least one).
    pub disaster: Vec<Fault>,
    /// How it recovers.
    pub recovery: Recovery,
    /// The objective.
    pub rto: Rto,
    /// Allowed losses.
    pub expect: Expect,
    /// Runs (≥ 1).
    pub repeat: u32,
}
