//! The scenario file format, `apiVersion: gameday/v1alpha1`, exactly as
//! users write it.
//!
//! These types are strict (`deny_unknown_fields`), keep optional fields
//! optional, and never reach the engine: [`super::convert`] turns them into
//! the internal [`super::model`] with every default applied. A new file
//! version gets its own module and its own conversion.
//!
//! The doc comments here are the field descriptions of the published JSON
//! Schema (`gameday schema`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// The only `apiVersion` this version of gameday reads.
pub const API_VERSION: &str = "gameday/v1alpha1";
/// The only `kind`.
pub const KIND: &str = "Scenario";

/// A disaster-recovery drill: what cluster, bootstrapped from which Git
/// source, broken how, recovered how, and within which RTO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "gameday Scenario (gameday/v1alpha1)")]
pub struct ScenarioFile {
    /// Always `gameday/v1alpha1`.
    #[schemars(extend("const" = "gameday/v1alpha1"))]
    pub api_version: String,
    /// Always `Scenario`.
    #[schemars(extend("const" = "Scenario"))]
    pub kind: String,
    /// Name and description.
    pub metadata: Metadata,
    /// The drill.
    pub spec: Spec,
}

/// Identifies the scenario in reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metadata {
    /// A DNS-1123 label (lower-case letters, digits, `-`; at most 40
    /// characters): it becomes part of cluster names.
    pub name: String,
    /// One line shown by `gameday list` and in reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What the drill does, top to bottom in the order it happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    /// The cluster the drill creates (or, with `existing`, borrows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterSpec>,
    /// The Git repository that holds the cluster's desired state.
    pub source: SourceSpec,
    /// How the cluster is bootstrapped from the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bootstrap: Option<BootstrapSpec>,
    /// What "healthy" means, checked before the disaster and after recovery.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state: Option<SteadyStateSpec>,
    /// Steps run after the steady state is reached and before the
    /// snapshot, e.g. hand-made changes Git does not know about.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "serde_yaml::with::singleton_map_recursive"
    )]
    #[schemars(with = "Vec<SetupStep>")]
    pub setup: Vec<SetupStep>,
    /// The faults injected, in order.
    pub disaster: Vec<FaultSpec>,
    /// How the cluster recovers.
    pub recovery: RecoverySpec,
    /// The recovery time objective: total and per-phase budgets.
    pub rto: RtoSpec,
    /// What the drill may lose without failing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<ExpectSpec>,
    /// How many times the drill runs (≥ 1); with more than one, the RTO
    /// verdict uses `rto.quantile`. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
}

/// The cluster provider and its settings. Blocks for providers other than
/// `provider` are allowed: they configure that provider when a run
/// overrides it (`gameday run --provider kind`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// `sim` (the embedded simulator, default), `kind`, `terraform` or `existing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderName>,
    /// Settings of the embedded simulator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<SimBlock>,
    /// Settings of kind clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<KindBlock>,
    /// Settings of a Terraform-provisioned cluster. Required with `provider: terraform`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terraform: Option<TerraformBlock>,
    /// Guard rails for a cluster gameday did not create. Required with `provider: existing`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing: Option<ExistingBlock>,
}

/// A cluster provider.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// The embedded Kubernetes API simulator.
    Sim,
    /// kind (Kubernetes in Docker), driven through its CLI.
    Kind,
    /// A cluster created by a Terraform module.
    Terraform,
    /// A cluster that already exists (guarded).
    Existing,
}

impl ProviderName {
    /// The name as written in files (`sim`, `kind`, `terraform`, `existing`).
    pub fn name(self) -> &'static str {
        match self {
            ProviderName::Sim => "sim",
            ProviderName::Kind => "kind",
            ProviderName::Terraform => "terraform",
            ProviderName::Existing => "existing",
        }
    }
}

/// Simulator settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SimBlock {
    /// Latency profile: `instant`, `kind` (default) or `eks`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<SimProfileName>,
    /// Number of nodes: one control plane, the rest workers. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// Seed of the simulated latencies' jitter. Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// A simulator latency profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SimProfileName {
    /// No latencies at all: for tests and benchmarks.
    Instant,
    /// Latencies measured on kind clusters.
    Kind,
    /// Latencies of a managed cloud cluster (EKS).
    Eks,
}

/// kind settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KindBlock {
    /// A kind cluster config file (`kind.x-k8s.io/v1alpha4`), relative to this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
    /// Node image, e.g. `kindest/node:v1.33.1`. Default: kind's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// How long `kind create cluster` may wait for the control plane. Default 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<HumanDuration>,
}

/// Terraform settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TerraformBlock {
    /// The Terraform module's folder, relative to this file.
    pub dir: String,
    /// Input variables, passed as `-var name=value`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The output holding the kubeconfig (a path or the content). Default `kubeconfig`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_output: Option<String>,
    /// A Terraform workspace to select or create. Default: none (`default`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Longest a single `terraform apply` or `destroy` may take. Default 30m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
}

/// Guard rails for an existing cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExistingBlock {
    /// Kubeconfig file, relative to this file. Default: `$KUBECONFIG`, else `~/.kube/config`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<String>,
    /// Context to use. Default: the kubeconfig's current context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// Context names gameday may touch; the context in use must be one of them.
    pub allow_contexts: Vec<String>,
    /// Namespaces a fault may touch; every namespace a fault names must be listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_namespaces: Vec<String>,
}

/// Where the desired state lives: a fixture folder turned into a fresh Git
/// repository, or a real repository URL. Exactly one of `fixture` and `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SourceSpec {
    /// A folder (relative to this file) copied into a new Git repository for each run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixture: Option<String>,
    /// A Git URL (`https://`, `ssh://`, `git@host:path`) or a local repository path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Branch to follow. Default `main` (when neither `tag` nor `commit` is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// Tag to check out (instead of a branch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Commit SHA to check out (may be combined with `branch`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Path inside the repository to reconcile. Default: the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// Bootstrap settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BootstrapSpec {
    /// `flux` (default): install Flux and point it at the source;
    /// `direct`: gameday applies the source itself and keeps reconciling it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<BootstrapMethodName>,
    /// Secrets Git cannot hold (keys, tokens), restored before reconciling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<SecretSpec>,
    /// Flux settings (with `method: flux`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flux: Option<FluxBlock>,
    /// Direct applier settings (with `method: direct`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct: Option<DirectBlock>,
}

/// A bootstrap method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BootstrapMethodName {
    /// Flux (real on real clusters, emulated in the simulator).
    Flux,
    /// gameday's own applier.
    Direct,
}

/// A Secret created from a file before reconciliation starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecretSpec {
    /// Namespace of the Secret (created if missing).
    pub namespace: String,
    /// Name of the Secret.
    pub name: String,
    /// File (relative to this file) whose content becomes the Secret's data.
    pub from_file: String,
    /// Data key. Default: the file's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// Flux settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FluxBlock {
    /// Flux's install manifests (a file relative to this file, or an
    /// `https://` URL), used on real clusters when the `flux` CLI is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifests: Option<String>,
    /// Interval of the `flux-system` GitRepository and Kustomization. Default 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<HumanDuration>,
}

/// Direct applier settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DirectBlock {
    /// How often gameday re-applies the source. Default 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<HumanDuration>,
    /// Delete objects that were applied before and are gone from the source. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<bool>,
    /// Objects applied at once. Default 16.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// What "healthy" means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SteadyStateSpec {
    /// Longest wait for the steady state, before the disaster and after recovery. Default 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Checks that must all pass. Default: every Kustomization Ready (with
    /// Flux) and every workload ready in the namespaces the source defines.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "serde_yaml::with::singleton_map_recursive"
    )]
    #[schemars(with = "Vec<CheckSpec>")]
    pub checks: Vec<CheckSpec>,
}

/// One steady-state check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum CheckSpec {
    /// Flux Kustomizations Ready at the source's head revision: `all`, or a
    /// list of names (`name` in `flux-system`, or `namespace/name`).
    Kustomizations(Selection),
    /// Deployments, StatefulSets and DaemonSets ready, Jobs complete.
    Workloads(WorkloadsCheck),
    /// One object exists, optionally with a condition `True`.
    Object(ObjectCheck),
}

/// `all`, or a list of names.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// The word `all`.
    All,
    /// Names.
    Names(Vec<String>),
}

impl Serialize for Selection {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Selection::All => serializer.serialize_str("all"),
            Selection::Names(names) => names.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Selection;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`all` or a list of names")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Selection, E> {
                if v == "all" {
                    Ok(Selection::All)
                } else {
                    Err(E::custom(format!(
                        "invalid value {v:?}: expected `all` or a list of names such as [apps, infrastructure]"
                    )))
                }
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Selection, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(Selection::Names(names))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for Selection {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Selection".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`all`, or a list of names.",
            "oneOf": [
                {"const": "all"},
                {"type": "array", "items": {"type": "string"}}
            ]
        })
    }
}

/// Which workloads must be ready.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WorkloadsCheck {
    /// Namespaces to check. Default: every namespace the source defines objects in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<Vec<String>>,
}

/// A reference to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectCheck {
    /// API version, e.g. `apps/v1`.
    pub api_version: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// Namespace (omit for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
    /// A condition type that must be `True`, e.g. `Available`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
}

/// A setup step: exactly one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum SetupStep {
    /// Apply a manifest file or folder (relative to this file) by hand, outside Git.
    Apply(String),
    /// Delete one object by hand.
    Delete(ObjectRefSpec),
    /// Wait this long on the cluster's clock.
    Sleep(HumanDuration),
}

/// A reference to an object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObjectRefSpec {
    /// API version; optional in `expect.lost` (any version matches).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Namespace (omit for cluster-scoped kinds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

/// A fault, selected by its `fault` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultSpec {
    /// The whole cluster is deleted.
    ClusterLoss {},
    /// A namespace and everything in it is deleted.
    NamespaceLoss {
        /// The namespace.
        namespace: String,
    },
    /// Objects are deleted: one by `name`, or all matching `selector`.
    #[serde(rename_all = "camelCase")]
    ResourceLoss {
        /// API version, e.g. `v1`, `apps/v1`.
        api_version: String,
        /// Kind, e.g. `ConfigMap`.
        kind: String,
        /// Namespace (omit for cluster-scoped kinds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// Name of the one object to delete.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Label selector of the objects to delete, e.g. `app=podinfo`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
    },
    /// The GitOps controller is lost: Flux's namespace is deleted, or the
    /// direct reconciler stops.
    ControllerLoss {},
    /// Nodes are lost (stopped); their pods are evicted after the grace period.
    NodeLoss {
        /// How many worker nodes. Default 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
    },
    /// A change is committed to the source repository (and pushed when it is a remote).
    #[serde(rename_all = "camelCase")]
    BadCommit {
        /// File in the repository, relative to its root.
        file: String,
        /// Fields to set, by path (`spec.template.spec.containers[0].image`).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        set: BTreeMap<String, serde_json::Value>,
        /// Which document of a multi-document file `set` edits, by index from 0. Default: the first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document: Option<u32>,
        /// New content for the whole file (instead of `set`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Delete the file (instead of `set`/`content`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delete: Option<bool>,
        /// Commit message. Default: `gameday: bad commit to <file>`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The API server is unavailable for `duration`.
    ApiOutage {
        /// How long.
        duration: HumanDuration,
    },
    /// The Terraform-managed infrastructure is destroyed (all, or `targets`).
    InfraLoss {
        /// Resource addresses for `terraform destroy -target`. Default: everything.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        targets: Vec<String>,
    },
    /// Infrastructure a Flux `Terraform` object manages is changed by hand,
    /// outside Git: `terraform apply` of its module with other variable
    /// values, against the state its controller keeps.
    InfraDrift {
        /// The `Terraform` object (`infra.contrib.fluxcd.io`): `name` (in
        /// `flux-system`) or `namespace/name`.
        terraform: String,
        /// The variable values applied by hand instead of the object's
        /// (`-var name=value`), e.g. `{cidr: 10.99.0.0/16}`.
        vars: BTreeMap<String, String>,
    },
}

/// How the cluster recovers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecoverySpec {
    /// `rebuild`, `reconcile`, `git-revert` or `manual`.
    pub method: RecoveryMethodName,
    /// With `reconcile`: request reconciliation at once (as `flux reconcile`
    /// does) instead of waiting for the next interval. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<bool>,
    /// Give up after this long. Default: three times `rto.total`, at least 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// With `manual`: what the team is asked to do, shown at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// A recovery method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryMethodName {
    /// A new cluster (or a new bootstrap) from Git.
    Rebuild,
    /// The GitOps loop repairs the cluster on its own.
    Reconcile,
    /// The bad commit is reverted in Git; the cluster follows.
    GitRevert,
    /// People repair it by hand; gameday keeps the clock.
    Manual,
}

/// RTO budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RtoSpec {
    /// Budget from the disaster to the steady state restored.
    pub total: HumanDuration,
    /// Budgets of single recovery phases: `detect`, `provision`, `infra`,
    /// `cluster-ready`, `bootstrap`, `converge`, `healthy` (those the
    /// recovery method has).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub phases: BTreeMap<String, HumanDuration>,
    /// With `repeat` > 1, which quantile of the repeats must meet the
    /// budgets: `p50`, `p90`, `p95` (default), `p99` or `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<QuantileName>,
}

/// A quantile of repeated measurements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum QuantileName {
    /// Median.
    P50,
    /// 90th percentile.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
    /// The worst run.
    Max,
}

/// Expectations about what the drill loses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectSpec {
    /// Objects allowed to be missing after recovery (they were never in Git).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<ObjectRefSpec>,
}
