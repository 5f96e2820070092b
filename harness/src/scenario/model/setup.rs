//! Setup steps: hand-made changes between the steady state and the snapshot.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::ObjectRef;

/// A setup step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SetupStep {
    /// Apply a file or folder by hand.
    Apply(PathBuf),
    /// Delete one object.
    Delete(ObjectRef),
    /// Wait on the cluster's clock.
    Sleep(Duration),
}
