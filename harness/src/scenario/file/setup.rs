//! `spec.setup`: hand-made changes made after the steady state and before
//! the snapshot, one action per step.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::ObjectRefSpec;
use crate::scenario::duration::HumanDuration;

/// A setup step: exactly one action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub enum SetupStep {
    /// Apply a manifest file or folder (relative to this file) by hand, outside Git.
    Apply(String),
    /// Delete one object by hand.
    Delete(ObjectRefSpec),
    /// Wait this long on the cluster's clock.
    Sleep(HumanDuration),
}
