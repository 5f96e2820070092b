//! The tofu-controller's status conventions, which are not Flux's
//! toolkit ones: every `Ready` it sets is stamped at the time it is set and
//! comes with `observedGeneration` and, once the source revision is known,
//! `lastAttemptedRevision` (the real controller's `TerraformReady`,
//! `TerraformNotReady`…); the `plan` field tracks the pending and last
//! applied plans; there is no `Stalled`.

use serde_json::{Value, json};

use super::spec::Spec;
use crate::sim::flux::reconcile::Pass;
use crate::sim::flux::status::Working;
use crate::sim::storage::store::Store;

/// Reasons (`infra.contrib.fluxcd.io/v1alpha2` and Flux's meta API).
pub mod reasons {
    /// Work in progress.
    pub const PROGRESSING: &str = "Progressing";
    /// Source or artifact missing.
    pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
    /// A dependency is not ready.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// The spec cannot be used.
    pub const VARS_GENERATION_FAILED: &str = "VarsGenerationFailed";
    /// `terraform init` failed.
    pub const INIT_FAILED: &str = "TFExecInitFailed";
    /// Selecting the workspace failed.
    pub const WORKSPACE_FAILED: &str = "SelectWorkspaceFailed";
    /// Drift found.
    pub const DRIFT_DETECTED: &str = "DriftDetected";
    /// Drift detection failed.
    pub const DRIFT_DETECTION_FAILED: &str = "DriftDetectionFailed";
    /// No drift.
    pub const NO_DRIFT: &str = "NoDrift";
    /// `terraform plan` failed.
    pub const PLAN_FAILED: &str = "TFExecPlanFailed";
    /// The plan has changes.
    pub const PLANNED_WITH_CHANGES: &str = "TerraformPlannedWithChanges";
    /// The plan has none.
    pub const PLANNED_NO_CHANGES: &str = "TerraformPlannedNoChanges";
    /// `terraform apply` failed.
    pub const APPLY_FAILED: &str = "TFExecApplyFailed";
    /// `terraform apply` succeeded.
    pub const APPLIED: &str = "TerraformAppliedSucceed";
    /// `terraform output` failed.
    pub const OUTPUT_FAILED: &str = "TFExecOutputFailed";
    /// Writing the outputs Secret failed.
    pub const OUTPUTS_WRITING_FAILED: &str = "OutputsWritingFailed";
    /// The outputs Secret was written.
    pub const OUTPUTS_WRITTEN: &str = "TerraformOutputsWritten";
}

/// `Ready` with the real controller's bookkeeping: stamped now, the
/// observed generation, and the revision attempted.
pub fn mark_ready(
    store: &Store,
    w: &mut Working,
    status: &str,
    reason: &str,
    message: &str,
    revision: Option<&str>,
) {
    w.now = store.now_rfc3339();
    w.mark("Ready", status, reason, message);
    let generation = w.generation;
    w.set("observedGeneration", json!(generation));
    if let Some(rev) = revision {
        w.set("lastAttemptedRevision", json!(rev));
    }
}

/// [`mark_ready`] on a pass's status.
pub fn ready(pass: &mut Pass<'_>, status: &str, reason: &str, message: &str, rev: Option<&str>) {
    mark_ready(pass.store(), &mut pass.w, status, reason, message, rev);
}

/// Another condition (`Plan`, `Apply`, `Output`), stamped now.
pub fn condition(pass: &mut Pass<'_>, type_: &str, status: &str, reason: &str, message: &str) {
    pass.w.now = pass.store().now_rfc3339();
    pass.w.mark(type_, status, reason, message);
}

/// The current time, for the `last…At` fields.
pub fn now(pass: &Pass<'_>) -> Value {
    json!(pass.store().now_rfc3339())
}

fn status_str(w: &Working, field: &str) -> Option<String> {
    w.get(field).and_then(Value::as_str).map(str::to_owned)
}

/// A field of `status.plan` (empty when unset).
pub fn plan_field(w: &Working, field: &str) -> String {
    w.get("plan")
        .and_then(|p| p.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// `status.plan`.
pub fn set_plan(w: &mut Working, last_applied: &str, pending: &str, drift: bool) {
    w.set(
        "plan",
        json!({"lastApplied": last_applied, "pending": pending, "isDriftDetectionPlan": drift}),
    );
}

/// The real controller's `shouldDetectDrift`: once everything of this
/// revision was applied (or planned without changes), and nothing is
/// pending.
pub fn should_detect_drift(w: &Working, spec: &Spec, revision: &str) -> bool {
    if spec.disable_drift_detection {
        return false;
    }
    if spec.approve_plan == "disable" {
        return true;
    }
    let attempted = status_str(w, "lastAttemptedRevision");
    let planned = status_str(w, "lastPlannedRevision");
    attempted.as_deref() == Some(revision)
        && planned.as_deref() == Some(revision)
        && plan_field(w, "pending").is_empty()
}
