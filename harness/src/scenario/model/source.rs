//! The Git source: where the desired state comes from and which revision.

use std::path::PathBuf;

use serde::Serialize;

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
