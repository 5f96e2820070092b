//! `spec.cluster`: the provider that makes (or lends) the cluster, with one
//! optional block of settings per provider.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::duration::HumanDuration;

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
    /// Image references the simulated registry holds besides those the
    /// cluster pulled before the disaster (e.g. the tag a `bad-commit`
    /// fault deploys when that tag really exists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    /// Drill a source whose Flux objects verify signatures (`verify` of an
    /// OCIRepository, HelmChart, HelmRelease chart or GitRepository), which
    /// the simulator does not check: without this such a source is
    /// `unsupported`; with it the drill runs and its report says which
    /// verifications were skipped. Default false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_verify: bool,
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
