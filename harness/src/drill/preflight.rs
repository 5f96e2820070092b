//! The simulator's preflight: before any cluster starts, the source is
//! scanned as Flux would apply it ([`crate::gitops::tree`]) and checked
//! against what the simulator emulates ([`crate::sim::flux::coverage`]).
//! A source with findings is not drilled on the simulator: its verdict is
//! `unsupported`, with one line per construct. Providers that run real
//! Flux (kind, existing, terraform) need no preflight. The images the
//! source references are what the simulated registry holds, with those
//! the scenario lists.

use std::path::{Path, PathBuf};

use crate::gitops::bootstrap::flux::sync;
use crate::gitops::mirror::Mirrors;
use crate::gitops::oci::Oci;
use crate::gitops::render::RenderOptions;
use crate::gitops::repo::{CloneOptions, GitRef, Repo};
use crate::gitops::tree;
use crate::scenario::model::{Scenario, SourceLocation};
use crate::sim::flux::coverage::{self, Finding};

/// Why the source could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder does not exist.
    #[error("source folder {} does not exist; pass a checkout of the repository", .0.display())]
    NoFolder(PathBuf),
    /// Cloning the URL failed.
    #[error("cannot clone the source {url}")]
    Clone {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: crate::gitops::repo::Error,
    },
    /// Pulling the artifact failed.
    #[error("cannot pull the source artifact: {0}")]
    Pull(#[from] crate::gitops::oci::Error),
    /// A folder for the artifact could not be made.
    #[error("cannot create a folder for the source artifact in {}", .dir.display())]
    Folder {
        /// Where.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// How long pulling a source artifact may take.
const PULL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// What the preflight found.
#[derive(Debug, Default)]
pub struct Preflight {
    /// Constructs the simulator does not emulate.
    pub findings: Vec<Finding>,
    /// Paths that do not render, one line each (`label: error`).
    pub render_errors: Vec<String>,
    /// Objects the source renders (all paths).
    pub objects: usize,
    /// Paths scanned (the source path and the Kustomizations followed).
    pub units: usize,
    /// The container images the source references: the simulated
    /// registry holds them for the whole drill.
    pub images: Vec<String>,
}

impl Preflight {
    /// The verdict's message when there are findings: a headline, then one
    /// line per finding.
    pub fn unsupported(&self) -> Option<String> {
        if self.findings.is_empty() {
            return None;
        }
        let n = self.findings.len();
        let mut text = format!(
            "the source uses {n} construct{} the simulator does not emulate:",
            if n == 1 { "" } else { "s" }
        );
        for f in &self.findings {
            text.push_str("\n  ");
            text.push_str(&f.to_string());
        }
        Some(text)
    }
}

/// Scans `path` of the checkout at `root`.
pub async fn scan_checkout(root: &Path, path: &str) -> Preflight {
    let tree = tree::scan(root, path, sync::NAME, &RenderOptions::default()).await;
    Preflight {
        findings: coverage::check(&tree),
        render_errors: tree
            .errors()
            .map(|(u, e)| format!("{}: {e}", u.label))
            .collect(),
        objects: tree.units.iter().map(|u| u.objects.len()).sum(),
        units: tree.units.len(),
        images: tree.images().into_iter().collect(),
    }
}

/// Scans a source: a folder as it is (a checkout, or a fixture folder), a
/// URL cloned at `reference` into a temporary folder under `scratch`, or
/// an OCI artifact pulled (through `mirrors`) and extracted there.
///
/// # Errors
/// When the folder does not exist, the clone fails or the artifact cannot
/// be pulled.
pub async fn scan_source(
    location: &SourceLocation,
    reference: &GitRef,
    path: &str,
    scratch: &Path,
    mirrors: &Mirrors,
) -> Result<Preflight, Error> {
    match location {
        SourceLocation::Oci { url, reference } => {
            let folder = std::fs::create_dir_all(scratch)
                .and_then(|()| {
                    tempfile::Builder::new()
                        .prefix("gameday-artifact-")
                        .tempdir_in(scratch)
                })
                .map_err(|source| Error::Folder {
                    dir: scratch.to_owned(),
                    source,
                })?;
            Oci::new(mirrors.clone())
                .pull_artifact(url, reference, folder.path(), PULL_TIMEOUT)
                .await?;
            Ok(scan_checkout(folder.path(), path).await)
        }
        SourceLocation::Fixture(folder) => {
            if !folder.is_dir() {
                return Err(Error::NoFolder(folder.clone()));
            }
            Ok(scan_checkout(folder, path).await)
        }
        SourceLocation::Url(url) => {
            std::fs::create_dir_all(scratch).map_err(|source| Error::Clone {
                url: url.clone(),
                source: crate::gitops::repo::Error::Io {
                    action: "create",
                    path: scratch.to_owned(),
                    source,
                },
            })?;
            let opts = CloneOptions {
                reference: Some(reference.clone()),
                parent: Some(scratch.to_owned()),
                push_commits: false,
                ..CloneOptions::default()
            };
            let repo = Repo::clone_url(url, &opts)
                .await
                .map_err(|source| Error::Clone {
                    url: url.clone(),
                    source,
                })?;
            // The temporary clone goes with `repo`.
            Ok(scan_checkout(repo.path(), path).await)
        }
    }
}

/// The preflight of a scenario's source. With
/// `spec.cluster.sim.skipVerify`, signature verifications are not findings
/// (the drill states them instead, see [`skipped_verifications`]).
///
/// # Errors
/// As [`scan_source`].
pub async fn scenario(s: &Scenario, scratch: &Path) -> Result<Preflight, Error> {
    let r = &s.source.reference;
    let reference = GitRef::from_parts(r.branch.clone(), r.tag.clone(), r.commit.clone());
    let mut scanned = scan_source(
        &s.source.location,
        &reference,
        &s.source.path,
        scratch,
        &s.mirrors,
    )
    .await?;
    if s.cluster.sim.skip_verify {
        scanned.findings.retain(|f| !f.is_signature_verification());
    }
    Ok(scanned)
}

/// The signature verifications a checkout's `path` asks for, which the
/// simulator does not check: one line each (`OCIRepository/flux-system/apps
/// spec.verify`).
pub async fn skipped_verifications(root: &Path, path: &str) -> Vec<String> {
    scan_checkout(root, path)
        .await
        .findings
        .into_iter()
        .filter(Finding::is_signature_verification)
        .map(|f| format!("{} {}", f.object, f.construct))
        .collect()
}
