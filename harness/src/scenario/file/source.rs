//! `spec.source`: the Git repository (or OCI artifact) that holds the
//! desired state.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the desired state lives: a fixture folder turned into a fresh Git
/// repository, a real repository URL, or an OCI artifact. Exactly one of
/// `fixture`, `url` and `oci`.
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
    /// An OCI artifact (`flux push artifact`) instead of Git: Flux syncs an
    /// OCIRepository. `branch`, `tag` and `commit` do not apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oci: Option<OciSourceSpec>,
    /// Path inside the repository (or artifact) to reconcile. Default: the root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// `spec.source.oci`: the artifact Flux's `flux-system` OCIRepository
/// follows. At most one of `tag` and `semver`; neither means tag `latest`,
/// as in Flux.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OciSourceSpec {
    /// `oci://<registry>/<repository>`, without a tag (e.g. `oci://ghcr.io/acme/fleet`).
    pub url: String,
    /// The tag to follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A semver range over the repository's tags (e.g. `1.x`, `>=1.0.0`); the highest match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
}
