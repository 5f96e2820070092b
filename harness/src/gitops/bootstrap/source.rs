//! The repository a bootstrap points a cluster at: a fresh repository made
//! from a fixture folder (or a clone of a URL), served over Git smart HTTP
//! so the GitOps tooling fetches it the way it fetches any remote, and
//! changed afterwards (a commit, a revert) with its head revision tracked.
//!
//! An OCI artifact source is pulled (through the run's mirrors) and
//! extracted into a local repository, so that rendering, the preflight and
//! coverage read the files the cluster's OCIRepository pulls; the cluster
//! follows the artifact itself, and its revision is Flux's
//! `<tag>@sha256:<digest>`. It cannot be committed to or reverted.

use std::collections::BTreeSet;
use std::path::Path;

use super::SyncSource;
use crate::gitops::mirror::Mirrors;
use crate::gitops::oci::Oci;
use crate::gitops::oci::artifact::ArtifactRef;
use crate::gitops::repo::{Change, CloneOptions, FixtureOptions, GitRef, Repo, Revision};
use crate::gitops::serve::{GitServer, ServeOptions};
use crate::scenario::model::{Source as SourceSpec, SourceLocation};

/// Why the source could not be prepared, served or changed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Git failed.
    #[error(transparent)]
    Git(#[from] crate::gitops::repo::Error),
    /// Serving the repository failed.
    #[error(transparent)]
    Serve(#[from] crate::gitops::serve::Error),
    /// The source path does not render.
    #[error(transparent)]
    Render(#[from] crate::gitops::render::Error),
    /// The artifact could not be pulled.
    #[error("pulling the source artifact failed: {0}")]
    Oci(#[from] crate::gitops::oci::Error),
    /// A folder for the artifact could not be made.
    #[error("could not create a folder for the source artifact in {}", .dir.display())]
    Folder {
        /// Where.
        dir: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A commit or revert of an artifact source.
    #[error("the source is an OCI artifact ({0}): there is no Git history to commit to or revert")]
    NotGit(String),
}

/// How long pulling a source artifact may take (source-controller's
/// default OCIRepository timeout).
const PULL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A served source repository (see the module docs).
#[derive(Debug)]
pub struct Source {
    repo: Repo,
    server: GitServer,
    /// The name the repository is served as.
    name: String,
    /// The remote of a `url` source.
    remote: Option<String>,
    url: String,
    path: String,
    reference: GitRef,
    namespaces: BTreeSet<String>,
    /// The head revision in Flux's format (`main@sha1:…`, for an artifact
    /// `<tag>@sha256:…`).
    head: String,
    /// An OCI artifact source: its `oci://` URL and what it follows.
    artifact: Option<(String, ArtifactRef)>,
}

impl Source {
    /// Materialises `spec` in `dir` (whose owner deletes it) and serves it
    /// as `name`; an artifact is pulled through `mirrors`.
    ///
    /// # Errors
    /// When git fails (missing revision, unreachable URL), the artifact
    /// cannot be pulled, or the source path does not render.
    pub async fn prepare(
        name: &str,
        spec: &SourceSpec,
        dir: &Path,
        mirrors: &Mirrors,
    ) -> Result<Source> {
        let reference = GitRef::from_parts(
            spec.reference.branch.clone(),
            spec.reference.tag.clone(),
            spec.reference.commit.clone(),
        );
        let fixture = FixtureOptions {
            parent: Some(dir.to_owned()),
            ..FixtureOptions::default()
        };
        let mut pulled = None;
        let mut repo = match &spec.location {
            SourceLocation::Fixture(folder) => Repo::from_fixture(folder, &fixture).await?,
            SourceLocation::Oci { url, reference } => {
                let folder = tempfile::Builder::new()
                    .prefix("gameday-artifact-")
                    .tempdir_in(dir)
                    .map_err(|source| Error::Folder {
                        dir: dir.to_owned(),
                        source,
                    })?;
                let oci = Oci::new(mirrors.clone());
                let got = oci
                    .pull_artifact(url, reference, folder.path(), PULL_TIMEOUT)
                    .await?;
                tracing::debug!(%url, revision = %got.revision, "source artifact pulled");
                pulled = Some(got.revision);
                Repo::from_fixture(folder.path(), &fixture).await?
            }
            SourceLocation::Url(url) => {
                let opts = CloneOptions {
                    reference: Some(reference.clone()),
                    parent: Some(dir.to_owned()),
                    ..CloneOptions::default()
                };
                Repo::clone_url(url, &opts).await?
            }
        };
        // The working copy lives in `dir`, which its owner deletes (or
        // keeps, with --retain).
        let path = repo.keep();
        let server = GitServer::serve(&path, name, ServeOptions::default()).await?;
        let url = server.url();
        // The namespaces the source defines objects in (for snapshots and
        // the default `workloads` check).
        let rendered = crate::gitops::render::render(repo.path(), &spec.path).await?;
        let mut namespaces = BTreeSet::new();
        for o in &rendered.objects {
            if let Some(ns) = o.namespace() {
                namespaces.insert(ns.to_owned());
            }
            if o.group().is_empty() && o.kind() == "Namespace" {
                namespaces.insert(o.name().to_owned());
            }
        }
        let head = match pulled {
            Some(revision) => revision,
            None => repo.head().await?.to_string(),
        };
        Ok(Source {
            head,
            repo,
            server,
            name: name.to_owned(),
            remote: match &spec.location {
                SourceLocation::Url(u) => Some(u.clone()),
                SourceLocation::Fixture(_) | SourceLocation::Oci { .. } => None,
            },
            artifact: match &spec.location {
                SourceLocation::Oci { url, reference } => Some((url.clone(), reference.clone())),
                _ => None,
            },
            url,
            path: spec.path.clone(),
            reference,
            namespaces,
        })
    }

    /// Serves the repository with `options` (where a cluster's nodes reach
    /// it): a new server when that address differs from the current one.
    ///
    /// # Errors
    /// When the server cannot listen there.
    pub async fn serve_at(&mut self, options: ServeOptions) -> Result<()> {
        let host = options
            .advertise_host
            .clone()
            .unwrap_or_else(|| options.bind.ip().to_string());
        let served_there = options.bind.ip() == self.server.local_addr().ip()
            && self.server.url().starts_with(&format!("http://{host}:"));
        if served_there {
            self.url = self.server.url();
            return Ok(());
        }
        let server = GitServer::serve(self.repo.path(), &self.name, options).await?;
        self.url = server.url();
        self.server = server;
        Ok(())
    }

    /// For a cluster that cannot reach this machine: the tooling fetches a
    /// `url` source from its remote (changes are pushed there), an artifact
    /// from its registry. False for a `fixture` source, which has no
    /// remote.
    pub fn fetch_from_remote(&mut self) -> bool {
        if self.artifact.is_some() {
            return true;
        }
        match &self.remote {
            Some(remote) => {
                self.url = remote.clone();
                true
            }
            None => false,
        }
    }

    /// The repository.
    pub fn repo(&self) -> &Repo {
        &self.repo
    }

    /// The URL the GitOps tooling fetches from (an artifact's `oci://`
    /// repository).
    pub fn url(&self) -> &str {
        match &self.artifact {
            Some((url, _)) => url,
            None => &self.url,
        }
    }

    /// True for an OCI artifact source.
    pub fn is_artifact(&self) -> bool {
        self.artifact.is_some()
    }

    /// The path inside the repository to reconcile.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The reference followed.
    pub fn reference(&self) -> &GitRef {
        &self.reference
    }

    /// The server (stops when the source is dropped).
    pub fn server(&self) -> &GitServer {
        &self.server
    }

    /// Namespaces the rendered source defines objects in.
    pub fn namespaces(&self) -> &BTreeSet<String> {
        &self.namespaces
    }

    /// What the tooling follows: URL, reference, path.
    pub fn sync_source(&self) -> SyncSource {
        SyncSource {
            url: self.url().to_owned(),
            reference: self.reference.clone(),
            path: self.path.clone(),
            artifact: self.artifact.as_ref().map(|(_, r)| r.clone()),
        }
    }

    /// The head revision in Flux's format (`main@sha1:…`), which moves
    /// with [`Source::commit`] and [`Source::revert`].
    pub fn revision(&self) -> &str {
        &self.head
    }

    /// Commits `changes` (pushed when the source is a remote).
    ///
    /// # Errors
    /// When the file or field does not exist, or git fails.
    pub async fn commit(&mut self, changes: &[Change], message: &str) -> Result<Revision> {
        self.git_only()?;
        let rev = self.repo.commit(changes, message).await?;
        self.head = rev.to_string();
        Ok(rev)
    }

    /// Reverts a commit (pushed when the source is a remote).
    ///
    /// # Errors
    /// When git fails.
    pub async fn revert(&mut self, sha: &str) -> Result<Revision> {
        self.git_only()?;
        let rev = self.repo.revert(sha).await?;
        self.head = rev.to_string();
        Ok(rev)
    }

    fn git_only(&self) -> Result<()> {
        match &self.artifact {
            Some((url, _)) => Err(Error::NotGit(url.clone())),
            None => Ok(()),
        }
    }
}
