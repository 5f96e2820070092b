//! `spec.expect`: what the drill may lose without failing, and the object
//! reference it lists (shared with `setup`'s `delete`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Expectations about what the drill loses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExpectSpec {
    /// Objects allowed to be missing after recovery (they were never in Git).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<ObjectRefSpec>,
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
