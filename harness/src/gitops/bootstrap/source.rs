//! The repository a bootstrap points a cluster at: a fresh repository made
//! from a fixture folder (or a clone of a URL), served over Git smart HTTP
//! so the GitOps tooling fetches it the way it fetches any remote, and
//! changed afterwards (a commit, a revert) with its head revision tracked.

use std::collections::BTreeSet;
use std::path::Path;

use super::SyncSource;
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
}

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
    /// The head revision in Flux's format (`main@sha1:…`).
    head: String,
}

impl Source {
    /// Materialises `spec` in `dir` (whose owner deletes it) and serves it
    /// as `name`.
    ///
    /// # Errors
    /// When git fails (missing revision, unreachable URL) or the source
    /// path does not render.
    pub async fn prepare(name: &str, spec: &SourceSpec, dir: &Path) -> Result<Source> {
        let reference = GitRef::from_parts(
            spec.reference.branch.clone(),
            spec.reference.tag.clone(),
            spec.reference.commit.clone(),
        );
        let mut repo = match &spec.location {
            SourceLocation::Fixture(folder) => {
                let opts = FixtureOptions {
                    parent: Some(dir.to_owned()),
                    ..FixtureOptions::default()
                };
                Repo::from_fixture(folder, &opts).await?
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
        let head = repo.head().await?.to_string();
        Ok(Source {
            head,
            repo,
            server,
            name: name.to_owned(),
            remote: match &spec.location {
                SourceLocation::Url(u) => Some(u.clone()),
                SourceLocation::Fixture(_) => None,
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
    /// `url` source from its remote (changes are pushed there). False for
    /// a `fixture` source, which has no remote.
    pub fn fetch_from_remote(&mut self) -> bool {
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

    /// The URL the GitOps tooling fetches from.
    pub fn url(&self) -> &str {
        &self.url
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
            url: self.url.clone(),
            reference: self.reference.clone(),
            path: self.path.clone(),
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
        let rev = self.repo.commit(changes, message).await?;
        self.head = rev.to_string();
        Ok(rev)
    }

    /// Reverts a commit (pushed when the source is a remote).
    ///
    /// # Errors
    /// When git fails.
    pub async fn revert(&mut self, sha: &str) -> Result<Revision> {
        let rev = self.repo.revert(sha).await?;
        self.head = rev.to_string();
        Ok(rev)
    }
}
