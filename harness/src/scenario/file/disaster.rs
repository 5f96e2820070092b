//! `spec.disaster`: the faults, each selected by its `fault` field.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RecoverySpec, RtoSpec};
use crate::scenario::duration::HumanDuration;

/// One of `spec.disasters`: a drill of its own that shares the rest of the
/// scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Alternative {
    /// A DNS-1123 label, unique in the file; the drill is named
    /// `<metadata.name>-<name>` (at most 40 characters in all).
    pub name: String,
    /// The faults injected, in order (as `spec.disaster`).
    pub disaster: Vec<FaultSpec>,
    /// How the cluster recovers from these faults; default `spec.recovery`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<RecoverySpec>,
    /// The RTO of this drill; default `spec.rto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rto: Option<RtoSpec>,
}

/// A fault, selected by its `fault` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "fault", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultSpec {
    /// The whole cluster is deleted.
    ClusterLoss {},
    /// A namespace and everything in it is deleted.
    NamespaceLoss {
        /// The namespace.
        namespace: String,
    },
    /// Objects are deleted: one by `name`, or all matching `selector`.
    #[serde(rename_all = "camelCase")]
    ResourceLoss {
        /// API version, e.g. `v1`, `apps/v1`.
        api_version: String,
        /// Kind, e.g. `ConfigMap`.
        kind: String,
        /// Namespace (omit for cluster-scoped kinds).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// Name of the one object to delete.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Label selector of the objects to delete, e.g. `app=podinfo`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        selector: Option<String>,
    },
    /// The GitOps controller is lost: Flux's namespace is deleted, or the
    /// direct reconciler stops.
    ControllerLoss {},
    /// Nodes are lost (stopped); their pods are evicted after the grace period.
    NodeLoss {
        /// How many worker nodes. Default 1.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        count: Option<u32>,
    },
    /// A change is committed to the source repository (and pushed when it is a remote).
    #[serde(rename_all = "camelCase")]
    BadCommit {
        /// File in the repository, relative to its root.
        file: String,
        /// Fields to set, by path (`spec.template.spec.containers[0].image`).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        set: BTreeMap<String, serde_json::Value>,
        /// Which document of a multi-document file `set` edits, by index from 0. Default: the first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document: Option<u32>,
        /// New content for the whole file (instead of `set`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// Delete the file (instead of `set`/`content`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        delete: Option<bool>,
        /// Commit message. Default: `gameday: bad commit to <file>`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// The API server is unavailable for `duration`.
    ApiOutage {
        /// How long.
        duration: HumanDuration,
    },
    /// The Terraform-managed infrastructure is destroyed (all, or `targets`).
    InfraLoss {
        /// Resource addresses for `terraform destroy -target`. Default: everything.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        targets: Vec<String>,
    },
    /// Infrastructure a Flux `Terraform` object manages is changed by hand,
    /// outside Git: `terraform apply` of its module with other variable
    /// values, against the state its controller keeps.
    InfraDrift {
        /// The `Terraform` object (`infra.contrib.fluxcd.io`): `name` (in
        /// `flux-system`) or `namespace/name`.
        terraform: String,
        /// The variable values applied by hand instead of the object's
        /// (`-var name=value`), e.g. `{cidr: 10.99.0.0/16}`.
        vars: BTreeMap<String, String>,
    },
}
