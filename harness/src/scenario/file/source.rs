//! `spec.source`: the Git repository that holds the desired state.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
