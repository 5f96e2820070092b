//! `spec.recovery`: how the cluster recovers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::duration::HumanDuration;

/// How the cluster recovers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RecoverySpec {
    /// `rebuild`, `reconcile`, `git-revert` or `manual`.
    pub method: RecoveryMethodName,
    /// With `reconcile`: request reconciliation at once (as `flux reconcile`
    /// does) instead of waiting for the next interval. Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<bool>,
    /// Give up after this long. Default: three times `rto.total`, at least 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// With `manual`: what the team is asked to do, shown at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
}

/// A recovery method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecoveryMethodName {
    /// A new cluster (or a new bootstrap) from Git.
    Rebuild,
    /// The GitOps loop repairs the cluster on its own.
    Reconcile,
    /// The bad commit is reverted in Git; the cluster follows.
    GitRevert,
    /// People repair it by hand; gameday keeps the clock.
    Manual,
}
