//! The drill's Git source: a fresh repository made from the fixture (or a
//! clone of the URL), served over Git smart HTTP so the GitOps tooling
//! fetches it the way it fetches any remote, and changed by the drill
//! (`bad-commit`, `git revert`).

use std::collections::BTreeSet;
use std::path::Path;

use crate::cluster::Cluster;
use crate::gitops::repo::{Change, CloneOptions, FixtureOptions, GitRef, Repo, Revision};
use crate::gitops::serve::{GitServer, ServeOptions};
use crate::gitops::yaml::edit::DocSelector;
use crate::gitops::yaml::path::FieldPath;
use crate::scenario::model::{FileChange, Scenario, SetupStep, SourceLocation};

use super::super::error::{Error, Result};

/// The source repository of one repeat.
#[derive(Debug)]
pub struct Source {
    repo: Repo,
    server: GitServer,
    /// The name the repository is served as.
    name: String,
    /// The scenario's remote, for a `url` source.
    remote: Option<String>,
    url: String,
    path: String,
    reference: GitRef,
    namespaces: BTreeSet<String>,
    /// The head revision in Flux's format (`main@sha1:…`): what the
    /// cluster must run.
    head: String,
}

impl Source {
    /// Materialises the scenario's source in `dir` (whose owner deletes
    /// it) and serves it.
    ///
    /// # Errors
    /// When git fails (missing revision, unreachable URL) or the source
    /// path does not render.
    pub async fn prepare(s: &Scenario, dir: &Path) -> Result<Source> {
        let reference = GitRef::from_parts(
            s.source.reference.branch.clone(),
            s.source.reference.tag.clone(),
            s.source.reference.commit.clone(),
        );
        let mut repo = match &s.source.location {
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
        let server = GitServer::serve(&path, &s.name, ServeOptions::default()).await?;
        let url = server.url();
        // The namespaces the source defines objects in (for snapshots and
        // the default `workloads` check).
        let rendered = crate::gitops::render::render(repo.path(), &s.source.path).await?;
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
            name: s.name.clone(),
            remote: match &s.source.location {
                SourceLocation::Url(u) => Some(u.clone()),
                SourceLocation::Fixture(_) => None,
            },
            url,
            path: s.source.path.clone(),
            reference,
            namespaces,
        })
    }

    /// Serves the repository where `cluster`'s nodes reach it
    /// ([`Cluster::git_serve_options`]): a new server when that address
    /// differs from the current one (kind: the `kind` network's gateway).
    /// A cluster that cannot reach this machine fetches a `url` source from
    /// its remote (changes are pushed there); with a `fixture` source that
    /// is an error asking for `spec.source.url`.
    ///
    /// # Errors
    /// [`crate::cluster::Error::SourceUnreachable`], or the server cannot
    /// listen there.
    pub async fn serve_for(&mut self, cluster: &Cluster) -> Result<()> {
        let options = match cluster.git_serve_options().await {
            Ok(o) => o,
            Err(e) => {
                return match &self.remote {
                    Some(remote) => {
                        self.url = remote.clone();
                        Ok(())
                    }
                    None => Err(e.into()),
                };
            }
        };
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

    /// Namespaces of the objects the setup steps apply by hand.
    pub fn setup_namespaces(&self, s: &Scenario) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for step in &s.setup {
            if let SetupStep::Apply(p) = step {
                for doc in super::manifests::read_manifests(p).unwrap_or_default() {
                    if let Some(ns) = doc.pointer("/metadata/namespace").and_then(|v| v.as_str()) {
                        out.insert(ns.to_owned());
                    }
                }
            }
        }
        out
    }

    /// The head revision in Flux's format (`main@sha1:…`), which moves
    /// with [`Source::commit_change`] and [`Source::revert`].
    pub fn revision(&self) -> &str {
        &self.head
    }

    /// Commits a change (the `bad-commit` fault); pushed when the source is
    /// a remote.
    ///
    /// # Errors
    /// When the file or field does not exist, or git fails.
    pub async fn commit_change(
        &mut self,
        file: &str,
        change: &FileChange,
        message: &str,
    ) -> Result<Revision> {
        let change = match change {
            FileChange::Set { document, fields } => {
                let mut parsed = Vec::new();
                for (path, value) in fields {
                    let fp = FieldPath::parse(path).map_err(|e| {
                        Error::Bootstrap(format!("bad-commit: field path {path:?}: {e}"))
                    })?;
                    parsed.push((fp, value.clone()));
                }
                Change::SetFields {
                    file: file.into(),
                    document: DocSelector {
                        index: Some(*document as usize),
                        ..DocSelector::default()
                    },
                    fields: parsed,
                }
            }
            FileChange::Replace(content) => Change::Write {
                file: file.into(),
                content: content.clone().into_bytes(),
            },
            FileChange::Delete => Change::Delete { file: file.into() },
        };
        let rev = self.repo.commit(&[change], message).await?;
        self.head = rev.to_string();
        Ok(rev)
    }

    /// Reverts a commit (the `git-revert` recovery); pushed when the source
    /// is a remote.
    ///
    /// # Errors
    /// When git fails.
    pub async fn revert(&mut self, sha: &str) -> Result<Revision> {
        let rev = self.repo.revert(sha).await?;
        self.head = rev.to_string();
        Ok(rev)
    }
}
