//! Errors of bootstrapping.

use std::path::PathBuf;
use std::time::Duration;

use crate::gitops::apply;
use crate::process::ProcessError;

/// The result type of bootstrapping.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a bootstrap failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The direct applier was given an OCI artifact source.
    #[error(
        "the direct applier follows Git, not OCI artifacts ({url}); bootstrap with Flux (`spec.bootstrap.method: flux`), whose OCIRepository pulls it"
    )]
    DirectFromOci {
        /// The artifact's repository.
        url: String,
    },
    /// Neither the flux CLI nor install manifests are available.
    #[error(
        "cannot install Flux: the `flux` CLI is not on PATH and `spec.bootstrap.flux.manifests` is not set; install the CLI (https://fluxcd.io/flux/installation/) or point `manifests` at Flux's install.yaml (a file or an https URL)"
    )]
    NoInstallMethod,
    /// The flux CLI needs a kubeconfig file.
    #[error("`flux install` needs the cluster's kubeconfig file; the provider did not give one")]
    NoKubeconfig,
    /// `flux install` failed.
    #[error("installing Flux with its CLI failed; run the command shown to see why")]
    Install(#[source] ProcessError),
    /// The install manifests file could not be read.
    #[error("could not read Flux's install manifests {}; check `spec.bootstrap.flux.manifests`", .path.display())]
    ManifestsRead {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Downloading the install manifests failed.
    #[error(
        "could not download Flux's install manifests from {url} (with curl); check the URL and the network, or use a file"
    )]
    ManifestsDownload {
        /// The URL (credentials redacted).
        url: String,
        /// The failed curl run.
        #[source]
        source: ProcessError,
    },
    /// The install manifests are not YAML.
    #[error("Flux's install manifests from {location} are not valid YAML")]
    ManifestsParse {
        /// File or URL.
        location: String,
        /// The parse error.
        #[source]
        source: crate::gitops::yaml::ParseError,
    },
    /// A secret's file could not be read.
    #[error("could not read {} for Secret {namespace}/{name} (`spec.bootstrap.secrets`)", .file.display())]
    SecretFile {
        /// Namespace of the Secret.
        namespace: String,
        /// Name of the Secret.
        name: String,
        /// The file.
        file: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Applying failed.
    #[error("{step} failed")]
    Apply {
        /// What was being applied.
        step: &'static str,
        /// Which objects failed and why.
        #[source]
        source: apply::Error,
    },
    /// A Flux object reported `Ready=False`.
    #[error("{object} is not ready: {message}")]
    NotReady {
        /// `GitRepository flux-system/flux-system`.
        object: String,
        /// The Ready condition's message.
        message: String,
    },
    /// Something did not become ready in time.
    #[error("timed out after {} waiting for {what}; last seen: {last}", humantime::format_duration(*.after))]
    Timeout {
        /// What was waited for.
        what: String,
        /// The timeout.
        after: Duration,
        /// The last state observed.
        last: String,
    },
    /// The direct reconciler did not apply the source in full in time.
    #[error(
        "the direct applier did not apply the source in {} ({attempts} attempt(s)); {}",
        humantime::format_duration(*.after),
        first_and_more(.failures)
    )]
    NotApplied {
        /// The time allowed (cluster clock).
        after: Duration,
        /// Reconciliations attempted.
        attempts: u64,
        /// Each object that could not be applied, with the API's reason
        /// (or the one reason of a fetch or render failure).
        failures: Vec<String>,
        /// The last attempt's whole error.
        last: String,
    },
    /// The direct reconciler's first run failed.
    #[error("the first direct reconciliation failed: {message}")]
    Direct {
        /// What failed (fetch, render, apply or prune), with the objects.
        message: String,
    },
    /// The direct reconciler's cache directory could not be created.
    #[error("could not create the direct reconciler's cache directory")]
    Cache(#[source] std::io::Error),
    /// A Kubernetes API call failed (operating a running Flux).
    #[error("{what}")]
    Kube {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// Watching the cluster failed.
    #[error("watching {what} failed")]
    Watch {
        /// What was watched.
        what: String,
        /// The watcher's error.
        #[source]
        source: kube::runtime::watcher::Error,
    },
}

/// `first failure (and N more)`.
fn first_and_more(failures: &[String]) -> String {
    let first = failures.first().map_or("", String::as_str);
    match failures.len() {
        0 | 1 => first.to_owned(),
        n => format!("{first} (and {} more)", n - 1),
    }
}

impl Error {
    /// True when the error is a finding about the source (its objects
    /// could not be applied, its path does not render) rather than a
    /// failure of a tool or the cluster.
    pub fn is_source_finding(&self) -> bool {
        matches!(self, Error::NotApplied { .. } | Error::Direct { .. })
    }

    /// Every reason behind the error, one line each.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Error::NotApplied { failures, .. } => failures.clone(),
            other => vec![crate::error_chain::one_line(other)],
        }
    }
}
