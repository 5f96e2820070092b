//! The scenario file format, `apiVersion: gameday/v1alpha1`, exactly as
//! users write it.
//!
//! These types are strict (`deny_unknown_fields`), keep optional fields
//! optional, and never reach the engine: the scenario's conversion turns
//! them into the internal [`super::model`] with every default applied. A
//! new file version gets its own module and its own conversion.
//!
//! One file per section of the document, in the order a scenario is
//! written: this module holds the document itself (`apiVersion`, `kind`,
//! `metadata` and the `spec` that lists the sections), then `cluster`,
//! `source`, `bootstrap`, `steady_state` (and its checks), `setup`,
//! `disaster` (the faults), `recovery`, `rto` and `expect`. Every type is
//! re-exported here, so `file::FaultSpec` is the path to use.
//!
//! The doc comments in these files are the field descriptions of the published JSON
//! Schema (`gameday schema`), and the schema lists fields in the order the
//! structs declare them: moving a field changes the published schema.

mod bootstrap;
mod cluster;
mod disaster;
mod expect;
mod recovery;
mod rto;
mod setup;
mod source;
mod steady_state;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use bootstrap::{BootstrapMethodName, BootstrapSpec, DirectBlock, FluxBlock, SecretSpec};
pub use cluster::{
    ClusterSpec, ExistingBlock, KindBlock, ProviderName, SimBlock, SimProfileName, TerraformBlock,
};
pub use disaster::{Alternative, FaultSpec};
pub use expect::{ExpectSpec, ObjectRefSpec};
pub use recovery::{RecoveryMethodName, RecoverySpec};
pub use rto::{QuantileName, RtoSpec};
pub use setup::SetupStep;
pub use source::{OciSourceSpec, SourceSpec};
pub use steady_state::{CheckSpec, ObjectCheck, Selection, SteadyStateSpec, WorkloadsCheck};

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

/// One offline mirror: a URL prefix and the folder that stands in for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MirrorSpec {
    /// The URL prefix (`https://charts.example.com`): the URL itself and
    /// everything under it.
    pub url: String,
    /// The folder (relative to the scenario file): for an HTTP(S) Helm
    /// repository, `index.yaml` and the chart archives (a folder without
    /// `index.yaml` is indexed by gameday, as `helm repo index` would).
    pub path: String,
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
    /// The Git repository (or OCI artifact) that holds the cluster's desired state.
    pub source: SourceSpec,
    /// Local folders standing in for remote URLs the simulator's emulated
    /// source-controller fetches (Helm repositories, OCI registries): `url` or anything
    /// under it is read from `path` instead. The objects in the cluster
    /// keep their real URLs. Simulator only: on `kind` and `existing`
    /// clusters the real Flux fetches the real URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<MirrorSpec>,
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
    /// The faults injected, in order. Required unless `disasters` lists
    /// alternatives instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disaster: Vec<FaultSpec>,
    /// Alternatives to `disaster`: one file for a repository's fault
    /// matrix. Each runs as its own drill — its own cluster, verdict and
    /// report entry — named `<metadata.name>-<name>`, with the rest of the
    /// spec shared. Exclusive with `disaster`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disasters: Vec<Alternative>,
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
