//! Recovery: the method with its settings, and the timed phases a recovery
//! goes through (the RTO budgets them, the report times them).

use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// How the cluster recovers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovery {
    /// Method.
    pub method: RecoveryMethod,
    /// Give up after this long.
    pub timeout: Duration,
}

/// A recovery method with its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryMethod {
    /// New cluster or new bootstrap from Git.
    Rebuild,
    /// The GitOps loop repairs.
    Reconcile {
        /// Request reconciliation at once.
        trigger: bool,
    },
    /// Revert the bad commit.
    GitRevert,
    /// People repair by hand.
    Manual {
        /// What they are asked to do.
        instructions: Option<String>,
    },
}

impl RecoveryMethod {
    /// The name as written in files.
    pub fn name(&self) -> &'static str {
        match self {
            RecoveryMethod::Rebuild => "rebuild",
            RecoveryMethod::Reconcile { .. } => "reconcile",
            RecoveryMethod::GitRevert => "git-revert",
            RecoveryMethod::Manual { .. } => "manual",
        }
    }
}

/// A timed recovery phase.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// The breakage is observed (git-revert).
    Detect,
    /// A new cluster is created (rebuild after a cluster-level loss).
    Provision,
    /// Terraform applies the infrastructure (terraform's part of provision).
    Infra,
    /// The Terraform-made cluster answers and its nodes are Ready.
    ClusterReady,
    /// The GitOps tooling is installed and pointed at the source.
    Bootstrap,
    /// The desired state is applied again.
    Converge,
    /// The steady state is restored.
    Healthy,
}

impl Phase {
    /// Every phase, in timeline order.
    pub const ALL: [Phase; 7] = [
        Phase::Detect,
        Phase::Provision,
        Phase::Infra,
        Phase::ClusterReady,
        Phase::Bootstrap,
        Phase::Converge,
        Phase::Healthy,
    ];

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Detect => "detect",
            Phase::Provision => "provision",
            Phase::Infra => "infra",
            Phase::ClusterReady => "cluster-ready",
            Phase::Bootstrap => "bootstrap",
            Phase::Converge => "converge",
            Phase::Healthy => "healthy",
        }
    }

    /// Parses a phase name.
    pub fn from_name(name: &str) -> Option<Phase> {
        Phase::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
