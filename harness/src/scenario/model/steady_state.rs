//! The steady state: how long to wait for it and the checks that define it.

use std::time::Duration;

use serde::Serialize;

use super::{NamespacedName, ObjectRef};

/// What "healthy" means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SteadyState {
    /// Longest wait.
    pub timeout: Duration,
    /// Checks (at least one).
    pub checks: Vec<Check>,
}

/// A steady-state check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Check {
    /// Flux Kustomizations Ready at head (None: all of them).
    Kustomizations(Option<Vec<NamespacedName>>),
    /// Workloads ready (None: the namespaces the source defines).
    Workloads(Option<Vec<String>>),
    /// One object, optionally with a condition True.
    Object {
        /// The object.
        object: ObjectRef,
        /// Condition type that must be True.
        condition: Option<String>,
    },
}
