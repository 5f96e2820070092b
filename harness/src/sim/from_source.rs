//! A simulated cluster bootstrapped from a repository, for `gameday sim
//! serve --source`: the repository (a folder that is not a Git repository
//! is committed into a scratch one, as a scenario's `fixture:` is) is
//! served over Git smart HTTP and the cluster bootstrapped from it the way
//! a drill's is ([`crate::gitops::bootstrap`]): Flux installed and pointed
//! at it, or gameday's direct applier started. The cluster is ready when
//! every Kustomization is Ready ([`all_ready`]), or when the direct
//! applier's first full apply succeeded.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gitops::apply::{Applier, ApplyOptions};
use crate::gitops::bootstrap::direct::{self, DirectConfig, DirectReconciler};
use crate::gitops::bootstrap::flux::all_ready;
use crate::gitops::bootstrap::flux::install::Install;
use crate::gitops::bootstrap::{self, Plan, Source, Tooling, source};
use crate::scenario::model::{
    BootstrapMethod, GitRef, SecretSource, Source as SourceSpec, SourceLocation,
};

use super::cluster::SimCluster;

/// What to bootstrap a simulated cluster from, and how.
#[derive(Debug, Clone)]
pub struct FromSource {
    /// A folder (a Git repository, or not: then it is committed into a
    /// scratch one) or a clone URL.
    pub location: String,
    /// The path in the repository to reconcile.
    pub path: String,
    /// The branch to follow (default `main`).
    pub branch: Option<String>,
    /// Flux or the direct applier.
    pub method: BootstrapMethod,
    /// Secrets created before the first reconciliation.
    pub secrets: Vec<SecretSource>,
    /// How long, on the cluster's clock, everything may take to be Ready.
    pub timeout: Duration,
}

/// Why the cluster could not be bootstrapped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository could not be made, cloned, or rendered at the path.
    #[error(
        "could not prepare the source {location} (branch {branch}, path {path}; see --branch and --path)"
    )]
    Source {
        /// `--source`.
        location: String,
        /// `--branch`.
        branch: String,
        /// `--path`.
        path: String,
        /// Why.
        #[source]
        source: source::Error,
    },
    /// No scratch folder for the repository's working copy.
    #[error("could not create a scratch folder for the repository")]
    Scratch(#[source] std::io::Error),
    /// The API could not be reached.
    #[error("could not reach the simulated cluster")]
    Client(#[source] Box<super::Error>),
    /// Installing Flux, restoring the secrets or the first apply failed.
    #[error("bootstrapping with {method} failed")]
    Bootstrap {
        /// `flux` or `direct`.
        method: &'static str,
        /// Why.
        #[source]
        source: bootstrap::Error,
    },
    /// Not every Kustomization became Ready.
    #[error("the cluster did not become ready")]
    NotReady(#[source] all_ready::Error),
}

impl Error {
    /// True when the repository's content, not gameday or the machine, is
    /// why: a Kustomization or an apply that did not become Ready.
    pub fn is_not_ready(&self) -> bool {
        match self {
            Error::NotReady(_) => true,
            Error::Bootstrap { source, .. } => matches!(
                source,
                bootstrap::Error::NotReady { .. }
                    | bootstrap::Error::Timeout { .. }
                    | bootstrap::Error::Direct { .. }
            ),
            Error::Source { .. } | Error::Scratch(_) | Error::Client(_) => false,
        }
    }

    /// True when the source itself is wrong (no such folder, branch or
    /// path).
    pub fn is_bad_source(&self) -> bool {
        matches!(self, Error::Source { .. })
    }
}

/// A bootstrapped cluster's GitOps side: keep it while the cluster serves.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The served repository (its Git server stops when this is dropped).
    pub source: Source,
    /// The direct applier, running (None with Flux, which runs in the
    /// simulator's emulation).
    pub reconciler: Option<DirectReconciler>,
    /// What is Ready, in a few words.
    pub summary: String,
    /// The folder of the repository's working copy, removed on drop.
    _scratch: crate::scratch::Scratch,
}

impl Bootstrapped {
    /// Stops what runs in this process.
    pub async fn shutdown(self) {
        if let Some(r) = self.reconciler {
            r.stop().await;
        }
    }
}

impl FromSource {
    /// The source as a scenario's `spec.source` would give it: a folder
    /// that is a Git repository (working copy or bare) is cloned like a
    /// URL, any other folder is a fixture.
    fn spec(&self) -> SourceSpec {
        let folder = Path::new(&self.location);
        let location = if folder.is_dir() && !is_repository(folder) {
            SourceLocation::Fixture(folder.to_owned())
        } else {
            SourceLocation::Url(self.location.clone())
        };
        SourceSpec {
            location,
            reference: GitRef {
                branch: Some(self.branch.clone().unwrap_or_else(|| "main".to_owned())),
                tag: None,
                commit: None,
            },
            path: self.path.clone(),
        }
    }
}

/// A Git repository's top folder: a working copy (`.git`) or a bare one.
fn is_repository(dir: &Path) -> bool {
    dir.join(".git").exists()
        || (dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir())
}

/// Bootstraps `cluster` (whose Flux emulation runs, for Flux) from
/// `from`, the repository's working copy in a scratch folder;
/// `kubeconfig` is the cluster's. Returns once everything is Ready.
///
/// # Errors
/// See [`Error`]: [`Error::NotReady`] names every Kustomization that failed
/// or was not Ready in time.
pub async fn bootstrap(
    cluster: &SimCluster,
    from: &FromSource,
    kubeconfig: &Path,
) -> Result<Bootstrapped, Error> {
    let method = from.method.name();
    let scratch = crate::scratch::Scratch::new("sim-source").map_err(Error::Scratch)?;
    let mirrors = crate::gitops::mirror::Mirrors::default();
    let source = Source::prepare("source", &from.spec(), scratch.path(), &mirrors)
        .await
        .map_err(|source| Error::Source {
            location: from.location.clone(),
            branch: from.branch.clone().unwrap_or_else(|| "main".to_owned()),
            path: from.path.clone(),
            source,
        })?;
    let client = cluster
        .client()
        .await
        .map_err(|e| Error::Client(Box::new(e)))?;
    let clock = cluster.clock().clone();
    let applier = Applier::new(client.clone(), clock.clone(), ApplyOptions::default());
    let failed = |source| Error::Bootstrap { method, source };
    match &from.method {
        BootstrapMethod::Flux(_) => {
            let started = clock.now();
            let plan = Plan {
                method: &from.method,
                secrets: &from.secrets,
                flux_install: Some(Install::simulated()),
                kubeconfig,
                source: source.sync_source(),
                revision: source.revision(),
                timeout: from.timeout,
            };
            Tooling::bootstrap(&applier, &plan, None)
                .await
                .map_err(failed)?;
            let left = from.timeout.saturating_sub(clock.since(started));
            let ready = all_ready::wait_all_ready(&client, &clock, left)
                .await
                .map_err(Error::NotReady)?;
            Ok(Bootstrapped {
                summary: format!(
                    "{} Kustomization(s) Ready at {}",
                    ready.len(),
                    source.revision()
                ),
                source,
                reconciler: None,
                _scratch: scratch,
            })
        }
        BootstrapMethod::Direct(settings) => {
            let reconciler = direct::bootstrap(
                &applier,
                source.sync_source(),
                DirectConfig::from_settings(settings),
                &from.secrets,
                from.timeout,
            )
            .await
            .map_err(failed)?;
            let applied = reconciler.current().inventory.entries.len();
            Ok(Bootstrapped {
                summary: format!(
                    "{applied} object(s) applied from {} (direct)",
                    source.revision()
                ),
                source,
                reconciler: Some(reconciler),
                _scratch: scratch,
            })
        }
    }
}

/// `--secret NAMESPACE/NAME=FILE`, the data key being the file's name (as
/// a scenario's `bootstrap.secrets`).
///
/// # Errors
/// A message saying what is wrong and the expected form.
pub fn parse_secret(s: &str) -> Result<SecretSource, String> {
    let form = "expected NAMESPACE/NAME=FILE, e.g. flux-system/sops-age=./age.agekey";
    let (object, file) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} has no `=FILE`; {form}"))?;
    let (namespace, name) = object
        .split_once('/')
        .ok_or_else(|| format!("{s:?} has no NAMESPACE/ before the name; {form}"))?;
    let valid = |p: &str| crate::scenario::is_dns_label(p);
    if !valid(namespace) {
        return Err(format!(
            "{s:?}: namespace {namespace:?} is not a DNS label; {form}"
        ));
    }
    if name.is_empty() || name.contains('/') {
        return Err(format!("{s:?}: {name:?} is not a Secret name; {form}"));
    }
    let from_file = PathBuf::from(file);
    if let Err(e) = std::fs::File::open(&from_file) {
        return Err(format!(
            "cannot read {file:?} for Secret {namespace}/{name}: {e}"
        ));
    }
    if !from_file.is_file() {
        return Err(format!(
            "{file:?} for Secret {namespace}/{name} is not a file"
        ));
    }
    let key = from_file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(SecretSource {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        from_file: std::path::absolute(&from_file).unwrap_or(from_file),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_namespace_name_and_a_readable_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("age.agekey");
        std::fs::write(&file, "AGE-SECRET-KEY-1").unwrap();
        let ok = parse_secret(&format!("flux-system/sops-age={}", file.display())).unwrap();
        assert_eq!(
            (ok.namespace.as_str(), ok.name.as_str(), ok.key.as_str()),
            ("flux-system", "sops-age", "age.agekey")
        );
        for (bad, says) in [
            ("flux-system/sops-age", "has no `=FILE`"),
            ("sops-age=/etc/hostname", "has no NAMESPACE/"),
            ("Flux_System/x=/etc/hostname", "is not a DNS label"),
            ("ns/x=/nonexistent/key", "cannot read"),
        ] {
            let e = parse_secret(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn folders_that_are_repositories_are_cloned() {
        let dir = tempfile::tempdir().unwrap();
        let from = |location: &Path| FromSource {
            location: location.display().to_string(),
            path: "clusters/staging".into(),
            branch: None,
            method: BootstrapMethod::Flux(Default::default()),
            secrets: Vec::new(),
            timeout: Duration::from_secs(300),
        };
        assert!(matches!(
            from(dir.path()).spec().location,
            SourceLocation::Fixture(_)
        ));
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        assert!(matches!(
            from(dir.path()).spec().location,
            SourceLocation::Url(_)
        ));
        assert_eq!(
            from(dir.path()).spec().reference.branch.as_deref(),
            Some("main")
        );
    }
}
