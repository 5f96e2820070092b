//! `spec.bootstrap`: how the cluster is pointed at its source (Flux or
//! gameday's own applier) and the secrets Git cannot hold.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::duration::HumanDuration;

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
    /// Namespace of the namespaced objects that set none (as `kubectl apply`
    /// puts them in its context's namespace). Default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}
