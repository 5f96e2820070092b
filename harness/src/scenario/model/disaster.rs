//! The disaster: faults with their parameters, and their kinds without.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::NamespacedName;

/// A fault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    /// The cluster is deleted.
    ClusterLoss,
    /// A namespace is deleted.
    NamespaceLoss {
        /// The namespace.
        namespace: String,
    },
    /// Objects are deleted.
    ResourceLoss {
        /// API version.
        api_version: String,
        /// Kind.
        kind: String,
        /// Namespace.
        namespace: Option<String>,
        /// Which objects.
        target: ResourceTarget,
    },
    /// The GitOps controller is lost.
    ControllerLoss,
    /// Worker nodes are lost.
    NodeLoss {
        /// How many.
        count: u32,
    },
    /// A change is committed to the source.
    BadCommit {
        /// File in the repository.
        file: String,
        /// The change.
        change: FileChange,
        /// Commit message.
        message: String,
    },
    /// The API is unavailable.
    ApiOutage {
        /// For how long.
        duration: Duration,
    },
    /// Terraform infrastructure destroyed.
    InfraLoss {
        /// `-target` addresses (empty: all).
        targets: Vec<String>,
    },
    /// Infrastructure of a Flux `Terraform` object changed by hand.
    InfraDrift {
        /// The `Terraform` object.
        terraform: NamespacedName,
        /// Variable values applied instead of the object's.
        vars: BTreeMap<String, String>,
    },
}

impl Fault {
    /// The fault's name as written in files.
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The fault's kind, without parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::ClusterLoss => FaultKind::ClusterLoss,
            Fault::NamespaceLoss { .. } => FaultKind::NamespaceLoss,
            Fault::ResourceLoss { .. } => FaultKind::ResourceLoss,
            Fault::ControllerLoss => FaultKind::ControllerLoss,
            Fault::NodeLoss { .. } => FaultKind::NodeLoss,
            Fault::BadCommit { .. } => FaultKind::BadCommit,
            Fault::ApiOutage { .. } => FaultKind::ApiOutage,
            Fault::InfraLoss { .. } => FaultKind::InfraLoss,
            Fault::InfraDrift { .. } => FaultKind::InfraDrift,
        }
    }
}

/// Fault kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FaultKind {
    /// `cluster-loss`.
    ClusterLoss,
    /// `namespace-loss`.
    NamespaceLoss,
    /// `resource-loss`.
    ResourceLoss,
    /// `controller-loss`.
    ControllerLoss,
    /// `node-loss`.
    NodeLoss,
    /// `bad-commit`.
    BadCommit,
    /// `api-outage`.
    ApiOutage,
    /// `infra-loss`.
    InfraLoss,
    /// `infra-drift`.
    InfraDrift,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 9] = [
        FaultKind::ClusterLoss,
        FaultKind::NamespaceLoss,
        FaultKind::ResourceLoss,
        FaultKind::ControllerLoss,
        FaultKind::NodeLoss,
        FaultKind::BadCommit,
        FaultKind::ApiOutage,
        FaultKind::InfraLoss,
        FaultKind::InfraDrift,
    ];

    /// The name as written in files.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::ClusterLoss => "cluster-loss",
            FaultKind::NamespaceLoss => "namespace-loss",
            FaultKind::ResourceLoss => "resource-loss",
            FaultKind::ControllerLoss => "controller-loss",
            FaultKind::NodeLoss => "node-loss",
            FaultKind::BadCommit => "bad-commit",
            FaultKind::ApiOutage => "api-outage",
            FaultKind::InfraLoss => "infra-loss",
            FaultKind::InfraDrift => "infra-drift",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which objects a `resource-loss` deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResourceTarget {
    /// One object by name.
    Name(String),
    /// Every object matching a label selector.
    Selector(String),
}

/// A change to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum FileChange {
    /// Set fields by path in one YAML document.
    Set {
        /// Document index.
        document: u32,
        /// Path → new value.
        fields: BTreeMap<String, serde_json::Value>,
    },
    /// Replace the content.
    Replace(String),
    /// Delete the file.
    Delete,
}
