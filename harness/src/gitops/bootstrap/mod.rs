//! Bootstrap: bringing a cluster to the state its repository describes,
//! and operating the GitOps tooling that keeps it there.
//!
//! - [`tooling`]: the one API a drill calls — bootstrap either method
//!   ([`Tooling::bootstrap`], resuming a stopped direct applier's
//!   inventory), adopt a Flux the cluster already runs, trigger a
//!   reconciliation, lose the controller, shut down.
//! - [`source`]: the repository a cluster is pointed at, made from a
//!   fixture or cloned, served where the cluster reaches it, changed by
//!   commits and reverts.
//! - [`flux`]: install Flux (its CLI, its install manifests, or — on the
//!   simulator — the simulator's generated manifests, all through one code
//!   path), restore the secrets Git cannot hold, create the `flux-system`
//!   GitRepository and Kustomization as `flux bootstrap` does, and wait
//!   until both are Ready at the head revision.
//! - [`direct`]: gameday applies the source path itself and keeps
//!   reconciling it on an interval and on demand, publishing its status
//!   through a `tokio::sync::watch` channel.
//! - [`secrets`]: the `bootstrap.secrets`, restored as Secrets (both
//!   methods go through [`secrets::restore`]).

pub mod direct;
mod error;
pub mod flux;
pub mod secrets;
pub mod source;
pub mod tooling;

use std::time::Duration;

pub use self::error::{Error, Result};
pub use self::source::Source;
pub use self::tooling::{Bootstrapped, Plan, Tooling};
use crate::gitops::oci::artifact::ArtifactRef;
use crate::gitops::repo::GitRef;

/// Where a cluster's desired state lives, as both methods read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncSource {
    /// The repository URL the cluster side fetches (for a local repository,
    /// the `http://` URL it is served at, see [`crate::gitops::serve`]).
    pub url: String,
    /// What to follow (a branch by default).
    pub reference: GitRef,
    /// The path in the repository (`clusters/staging`; empty for the root).
    pub path: String,
    /// An OCI artifact instead of Git: `url` is its `oci://` repository,
    /// Flux's sync is an OCIRepository following this (and `reference` is
    /// unused); the direct applier refuses it.
    pub artifact: Option<ArtifactRef>,
}

impl SyncSource {
    /// The path as Flux writes it: `./clusters/staging`, `./` for the root.
    pub fn flux_path(&self) -> String {
        let p = self.path.trim_start_matches("./").trim_matches('/');
        if p.is_empty() || p == "." {
            "./".to_owned()
        } else {
            format!("./{p}")
        }
    }
}

/// The default time allowed for a bootstrap to become Ready.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flux_paths_start_with_dot_slash() {
        let s = |p: &str| SyncSource {
            url: "http://127.0.0.1:1/r.git".into(),
            reference: GitRef::branch("main"),
            path: p.into(),
            artifact: None,
        };
        assert_eq!(s("clusters/staging").flux_path(), "./clusters/staging");
        assert_eq!(s("./clusters/staging/").flux_path(), "./clusters/staging");
        assert_eq!(s("").flux_path(), "./");
        assert_eq!(s(".").flux_path(), "./");
    }
}
