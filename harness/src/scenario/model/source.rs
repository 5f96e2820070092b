//! The source: where the desired state comes from (a Git repository or an
//! OCI artifact) and which revision.

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
    /// An OCI artifact (`flux push artifact`): the cluster syncs an
    /// OCIRepository instead of a GitRepository; the Git reference is
    /// unused.
    Oci {
        /// `oci://<registry>/<repository>`, without tag.
        url: String,
        /// The tag or semver range followed.
        reference: crate::gitops::oci::artifact::ArtifactRef,
    },
}

impl SourceLocation {
    /// True for an OCI artifact.
    pub fn is_oci(&self) -> bool {
        matches!(self, SourceLocation::Oci { .. })
    }
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
