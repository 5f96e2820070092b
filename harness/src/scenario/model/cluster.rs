//! The cluster: the provider to use and the settings of every provider the
//! scenario may run on (a run may override the provider).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use crate::scenario::file::{ProviderName as Provider, SimProfileName as SimProfile};

/// The cluster and the settings of every provider it may run on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cluster {
    /// The provider to use.
    pub provider: Provider,
    /// Simulator settings (always present: the simulator needs no block).
    pub sim: SimSettings,
    /// kind settings (always present: kind needs no block).
    pub kind: KindSettings,
    /// Terraform settings, when given.
    pub terraform: Option<TerraformSettings>,
    /// Existing-cluster guard rails, when given.
    pub existing: Option<ExistingSettings>,
}

/// Simulator settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SimSettings {
    /// Latency profile.
    pub profile: SimProfile,
    /// Nodes (one control plane, the rest workers).
    pub nodes: u32,
    /// Jitter seed.
    pub seed: u64,
    /// Images the simulated registry holds besides those pulled before the
    /// disaster.
    pub images: Vec<String>,
    /// Signature verifications (`verify` fields) are skipped instead of
    /// making the source unsupported; the report says so.
    pub skip_verify: bool,
}

/// kind settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindSettings {
    /// Cluster config file.
    pub config: Option<PathBuf>,
    /// Node image.
    pub image: Option<String>,
    /// `--wait` of `kind create cluster`.
    pub wait: Duration,
}

/// Terraform settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TerraformSettings {
    /// Module folder.
    pub dir: PathBuf,
    /// `-var` values.
    pub vars: BTreeMap<String, String>,
    /// Output holding the kubeconfig.
    pub kubeconfig_output: String,
    /// Workspace, if any.
    pub workspace: Option<String>,
    /// Timeout of one apply or destroy.
    pub timeout: Duration,
}

/// Existing-cluster guard rails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExistingSettings {
    /// Kubeconfig file (None: `$KUBECONFIG`, else `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// Context (None: the current one).
    pub context: Option<String>,
    /// Contexts that may be touched.
    pub allow_contexts: Vec<String>,
    /// Namespaces faults may touch.
    pub allow_namespaces: Vec<String>,
}
