//! The internal scenario model: what the engine runs.
//!
//! Every default is applied, every path is absolute, every choice the file
//! leaves open is decided. Nothing here knows about file versions.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

pub use super::file::{ProviderName as Provider, SimProfileName as SimProfile};

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

/// The Git source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Where it comes from.
    pub location: SourceLocation,
    /// Which revision.
    pub reference: GitRef,
    /// Path in the repository (`.` for the root), without leading `./`.
    pub path: String,
}

/// Where a source comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SourceLocation {
    /// A folder copied into a fresh repository for each run.
    Fixture(PathBuf),
    /// A repository URL or local path.
    Url(String),
}

/// A Git reference, with Flux's precedence (commit > tag > branch).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GitRef {
    /// Branch (`main` when neither tag nor commit is given).
    pub branch: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Commit SHA.
    pub commit: Option<String>,
}

/// Bootstrap settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bootstrap {
    /// Method and its settings.
    pub method: BootstrapMethod,
    /// Secrets restored before reconciliation.
    pub secrets: Vec<SecretSource>,
}

/// A bootstrap method with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BootstrapMethod {
    /// Flux.
    Flux(FluxSettings),
    /// gameday's applier.
    Direct(DirectSettings),
}

impl BootstrapMethod {
    /// `flux` or `direct`.
    pub fn name(&self) -> &'static str {
        match self {
            BootstrapMethod::Flux(_) => "flux",
            BootstrapMethod::Direct(_) => "direct",
        }
    }
}

/// Flux settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FluxSettings {
    /// Install manifests: a file or URL.
    pub manifests: Option<String>,
    /// Interval of the sync objects.
    pub interval: Duration,
}

/// Direct applier settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirectSettings {
    /// Re-apply interval.
    pub interval: Duration,
    /// Prune removed objects.
    pub prune: bool,
    /// Objects applied at once.
    pub concurrency: u32,
}

/// A Secret from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretSource {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// The file.
    pub from_file: PathBuf,
    /// Data key.
    pub key: String,
}

/// What "healthy" means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SteadyState {
    /// Longest wait.
    pub timeout: Duration,
    /// Checks (at least one).
    pub checks: Vec<Check>,
}

/// A steady-state check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    /// Flux Kustomizations Ready at head (None: all of them).
    Kustomizations(Option<Vec<NamespacedName>>),
    /// Workloads ready (None: the namespaces the source defines).
    Workloads(Option<Vec<String>>),
    /// One object, optionally with a condition True.
    Object {
        /// The object.
        object: ObjectRef,
        /// Condition type that must be True.
        condition: Option<String>,
    },
}

/// `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct NamespacedName {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl fmt::Display for NamespacedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// A reference to an object (api version optional where any matches).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// API version (None: any).
    pub api_version: Option<String>,
    /// Kind.
    pub kind: String,
    /// Namespace (None: cluster-scoped).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// A setup step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SetupStep {
    /// Apply a file or folder by hand.
    Apply(PathBuf),
    /// Delete one object.
    Delete(ObjectRef),
    /// Wait on the cluster's clock.
    Sleep(Duration),
}

/// A fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    /// The cluster is deleted.
    ClusterLoss,
    /// A namespace is deleted.
    NamespaceLoss {
        /// The namespace.
        namespace: String,
    },
    /// Objects are deleted.
    ResourceLoss {
        /// API version.
        api_version: String,
        /// Kind.
        kind: String,
        /// Namespace.
        namespace: Option<String>,
        /// Which objects.
        target: ResourceTarget,
    },
    /// The GitOps controller is lost.
    ControllerLoss,
    /// Worker nodes are lost.
    NodeLoss {
        /// How many.
        count: u32,
    },
    /// A change is committed to the source.
    BadCommit {
        /// File in the repository.
        file: String,
        /// The change.
        change: FileChange,
        /// Commit message.
        message: String,
    },
    /// The API is unavailable.
    ApiOutage {
        /// For how long.
        duration: Duration,
    },
    /// Terraform infrastructure destroyed.
    InfraLoss {
        /// `-target` addresses (empty: all).
        targets: Vec<String>,
    },
    /// Infrastructure of a Flux `Terraform` object changed by hand.
    InfraDrift {
        /// The `Terraform` object.
        terraform: NamespacedName,
        /// Variable values applied instead of the object's.
        vars: BTreeMap<String, String>,
    },
}

impl Fault {
    /// The fault's name as written in files.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The fault's kind, without parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::ClusterLoss => FaultKind::ClusterLoss,
            Fault::NamespaceLoss { .. } => FaultKind::NamespaceLoss,
            Fault::ResourceLoss { .. } => FaultKind::ResourceLoss,
            Fault::ControllerLoss => FaultKind::ControllerLoss,
            Fault::NodeLoss { .. } => FaultKind::NodeLoss,
            Fault::BadCommit { .. } => FaultKind::BadCommit,
            Fault::ApiOutage { .. } => FaultKind::ApiOutage,
            Fault::InfraLoss { .. } => FaultKind::InfraLoss,
            Fault::InfraDrift { .. } => FaultKind::InfraDrift,
        }
    }
}

/// Fault kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `cluster-loss`.
    ClusterLoss,
    /// `namespace-loss`.
    NamespaceLoss,
    /// `resource-loss`.
    ResourceLoss,
    /// `controller-loss`.
    ControllerLoss,
    /// `node-loss`.
    NodeLoss,
    /// `bad-commit`.
    BadCommit,
    /// `api-outage`.
    ApiOutage,
    /// `infra-loss`.
    InfraLoss,
    /// `infra-drift`.
    InfraDrift,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::ClusterLoss,
        FaultKind::NamespaceLoss,
        FaultKind::ResourceLoss,
        FaultKind::ControllerLoss,
        FaultKind::NodeLoss,
        FaultKind::BadCommit,
        FaultKind::ApiOutage,
        FaultKind::InfraLoss,
        FaultKind::InfraDrift,
    ];

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::ClusterLoss => "cluster-loss",
            FaultKind::NamespaceLoss => "namespace-loss",
            FaultKind::ResourceLoss => "resource-loss",
            FaultKind::ControllerLoss => "controller-loss",
            FaultKind::NodeLoss => "node-loss",
            FaultKind::BadCommit => "bad-commit",
            FaultKind::ApiOutage => "api-outage",
            FaultKind::InfraLoss => "infra-loss",
            FaultKind::InfraDrift => "infra-drift",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which objects a `resource-loss` deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTarget {
    /// One object by name.
    Name(String),
    /// Every object matching a label selector.
    Selector(String),
}

/// A change to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FileChange {
    /// Set fields by path in one YAML document.
    Set {
        /// Document index.
        document: u32,
        /// Path → new value.
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// Replace the content.
    Replace(String),
    /// Delete the file.
    Delete,
}

/// How the cluster recovers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Method.
    pub method: RecoveryMethod,
    /// Give up after this long.
    pub timeout: Duration,
}

/// A recovery method with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryMethod {
    /// New cluster or new bootstrap from Git.
    Rebuild,
    /// The GitOps loop repairs.
    Reconcile {
        /// Request reconciliation at once.
        trigger: bool,
    },
    /// Revert the bad commit.
    GitRevert,
    /// People repair by hand.
    Manual {
        /// What they are asked to do.
        instructions: Option<String>,
    },
}

impl RecoveryMethod {
    /// The name as written in files.
    pub fn name(&self) -> &'static str {
        match self {
            RecoveryMethod::Rebuild => "rebuild",
            RecoveryMethod::Reconcile { .. } => "reconcile",
            RecoveryMethod::GitRevert => "git-revert",
            RecoveryMethod::Manual { .. } => "manual",
        }
    }
}

/// A timed recovery phase.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The breakage is observed (git-revert).
    Detect,
    /// A new cluster is created (rebuild after a cluster-level loss).
    Provision,
    /// Terraform applies the infrastructure (terraform's part of provision).
    Infra,
    /// The Terraform-made cluster answers and its nodes are Ready.
    ClusterReady,
    /// The GitOps tooling is installed and pointed at the source.
    Bootstrap,
    /// The desired state is applied again.
    Converge,
    /// The steady state is restored.
    Healthy,
}

impl Phase {
    /// Every phase, in timeline order.
    pub const ALL: [Phase; 7] = [
        Phase::Detect,
        Phase::Provision,
        Phase::Infra,
        Phase::ClusterReady,
        Phase::Bootstrap,
        Phase::Converge,
        Phase::Healthy,
    ];

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Detect => "detect",
            Phase::Provision => "provision",
            Phase::Infra => "infra",
            Phase::ClusterReady => "cluster-ready",
            Phase::Bootstrap => "bootstrap",
            Phase::Converge => "converge",
            Phase::Healthy => "healthy",
        }
    }

    /// Parses a phase name.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The objective.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rto {
    /// Disaster → steady state.
    pub total: Duration,
    /// Per-phase budgets.
    pub phases: BTreeMap<Phase, Duration>,
    /// Quantile the verdict uses over repeats.
    pub quantile: Quantile,
}

/// A quantile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quantile {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// Maximum.
    Max,
}

impl Quantile {
    /// The quantile as a fraction in (0, 1].
    pub fn fraction(self) -> f64 {
        match self {
            Quantile::P50 => 0.50,
            Quantile::P90 => 0.90,
            Quantile::P95 => 0.95,
            Quantile::P99 => 0.99,
            Quantile::Max => 1.0,
        }
    }

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Quantile::P50 => "p50",
            Quantile::P90 => "p90",
            Quantile::P95 => "p95",
            Quantile::P99 => "p99",
            Quantile::Max => "max",
        }
    }
}

/// Expectations.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Expect {
    /// Objects allowed to be lost.
    pub lost: Vec<ObjectRef>,
}
