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
}

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

/// Scans a source: a folder as it is (a checkout, or a fixture folder), or
/// a URL cloned at `reference` into a temporary folder under `scratch`.
///
/// # Errors
/// When the folder does not exist or the clone fails.
pub async fn scan_source(
    location: &SourceLocation,
    reference: &GitRef,
    path: &str,
    scratch: &Path,
) -> Result<Preflight, Error> {
    match location {
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

/// The preflight of a scenario's source.
///
/// # Errors
/// As [`scan_source`].
pub async fn scenario(s: &Scenario, scratch: &Path) -> Result<Preflight, Error> {
    let r = &s.source.reference;
    let reference = GitRef::from_parts(r.branch.clone(), r.tag.clone(), r.commit.clone());
    scan_source(&s.source.location, &reference, &s.source.path, scratch).await
}
