//! The steps of a `Terraform` reconcile, in the order the real controller
//! runs them (the order decides which reason a failure reports), after the
//! skeleton's deletion (`terraform destroy` when
//! `destroyResourcesOnDeletion`, [`super::workspace::destroy`]), finalizer
//! and suspension ([`crate::sim::flux::reconcile`]); the status is kept
//! the tofu-controller's way ([`super::status`]):
//!
//! 1. an unusable spec → `VarsGenerationFailed`;
//! 2. source missing, or without artifact → `ArtifactFailed`;
//! 3. `dependsOn` (other Terraform objects) not ready → `DependencyNotReady`;
//! 4. `Ready=Unknown` (`Progressing`, "Reconciliation in progress"); the
//!    module copied out of the artifact, the `kubernetes` backend and the
//!    variables written; `terraform init` → `TFExecInitFailed`; workspace
//!    → `SelectWorkspaceFailed`;
//! 5. drift detection, once this revision was applied: `terraform plan`;
//!    changes → `Ready=False` `DriftDetected` (the plan's summary) and
//!    `lastDriftDetectedAt`, then on to 6 with `approvePlan: auto`; none →
//!    `Ready=True` `NoDrift` `"No drift: <rev>"`, done;
//! 6. plan → `TFExecPlanFailed`; with changes `Plan=True`
//!    `TerraformPlannedWithChanges` "Plan generated", `plan.pending`
//!    `plan-<rev>`; without `Ready=True` `TerraformPlannedNoChanges`;
//!    `lastPlannedRevision`, `lastAttemptedRevision`;
//! 7. apply when approved → `TFExecApplyFailed` (`Apply=False`
//!    `TerraformAppliedFail`); success `Apply=True` `TerraformAppliedSucceed`
//!    "Applied successfully", `lastAppliedRevision`, `plan.lastApplied`,
//!    `lastAppliedByDriftDetectionAt` after a drift, `Ready=True`
//!    `TerraformAppliedSucceed`; outputs → `Output=True`
//!    `TerraformOutputsAvailable`, `availableOutputs`;
//! 8. `writeOutputsToSecret` → `OutputsWritingFailed`; `Ready=True`
//!    `TerraformOutputsWritten` `"Outputs written: <rev>"`.
//!
//! Failures requeue at `retryInterval`, success at `interval`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::spec::Spec;
use super::status::{self, condition, plan_field, ready, reasons, set_plan};
use super::workspace::{text, workdir};
use super::{COMMAND_TIMEOUT, TofuController, gvr, outputs};
use crate::sim::flux::reconcile::{Failure, Outcome, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::storage::store::{ObjectRef, Store, conditions};
use crate::terraform::Terraform;

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &TofuController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let spec = Spec::read(&obj)
        .map_err(|e| Failure::new(reasons::VARS_GENERATION_FAILED, e, Requeue::Never))?;
    let interval = Requeue::After(spec.interval);
    let (revision, tree) = source_artifact(ctl, pass.store(), &spec)?;
    dependencies(ctl, pass.store(), &spec)?;
    ready(
        pass,
        "Unknown",
        reasons::PROGRESSING,
        "Reconciliation in progress",
        None,
    );
    pass.write();
    let tf = prepare(ctl, pass, &tree, &spec)
        .await
        .map_err(|f| f.of(&revision))?;
    let drifted = match detect_drift(pass, &tf, &spec, &revision).await? {
        Drift::Unchecked => false,
        Drift::Found => true,
        Drift::None => {
            let msg = format!("No drift: {revision}");
            return Ready::new(reasons::NO_DRIFT, msg, interval)
                .of(&revision)
                .done();
        }
    };
    if spec.approve_plan == "disable" {
        // Planning is off: drift detection was all there was to do.
        return Ok(Outcome::Waiting(interval));
    }
    let approved = match plan(pass, &tf, &spec, &revision, drifted).await? {
        Planned::NoChanges => {
            let msg = format!("Plan no changes: {revision}");
            return Ready::new(reasons::PLANNED_NO_CHANGES, msg, interval)
                .of(&revision)
                .done();
        }
        Planned::Unapproved => return Ok(Outcome::Waiting(Requeue::Never)),
        Planned::Approved(approved) => approved,
    };
    apply(pass, &tf, &spec, &revision, &approved, drifted).await?;
    let done = outputs(ctl, pass, &tf, &spec, &revision).await?;
    tracing::debug!(terraform = %format!("{}/{}", pass.namespace(), pass.name()), %revision, drifted, "applied");
    done.done()
}

/// The source's artifact: (revision, extracted tree).
///
/// # Errors
/// `ArtifactFailed`: a source kind other than `GitRepository` (never
/// retried), a missing source or artifact (`retryInterval`).
fn source_artifact(
    ctl: &TofuController,
    store: &Store,
    spec: &Spec,
) -> Result<(String, PathBuf), Failure> {
    let src = &spec.source;
    let source_id = format!("{}/{}/{}", src.kind, src.namespace, src.name);
    let retry = Requeue::After(spec.retry_interval);
    let failed = |msg: String, requeue| Failure::new(reasons::ARTIFACT_FAILED, msg, requeue);
    if src.kind != "GitRepository" {
        let msg = format!("Source '{source_id}' kind is not supported by gameday's emulation");
        return Err(failed(msg, Requeue::Never));
    }
    let source = ObjectRef::namespaced(crate::sim::flux::source::gvr(), &src.namespace, &src.name);
    let Ok(found) = store.get(&source) else {
        return Err(failed(format!("Source '{source_id}' not found"), retry));
    };
    let revision = found
        .pointer("/status/artifact/revision")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let tree = found
        .pointer("/status/artifact/path")
        .and_then(Value::as_str)
        .and_then(|p| ctl.artifacts.tree(p))
        .filter(|t| t.is_dir());
    match (revision, tree) {
        (Some(revision), Some(tree)) => Ok((revision, tree)),
        _ => Err(failed(
            "Source is not ready, artifact not found".to_owned(),
            retry,
        )),
    }
}

/// `dependsOn`: every other `Terraform` object Ready at its generation.
///
/// # Errors
/// `DependencyNotReady` for the first that is not (the dependency
/// requeue).
fn dependencies(ctl: &TofuController, store: &Store, spec: &Spec) -> Result<(), Failure> {
    for (dns, dname) in &spec.depends_on {
        let ready = store
            .get(&ObjectRef::namespaced(gvr(), dns, dname))
            .ok()
            .is_some_and(|d| {
                conditions::condition_status(&d, "Ready") == Some("True")
                    && d.pointer("/metadata/generation") == d.pointer("/status/observedGeneration")
            });
        if !ready {
            let msg = format!("dependency '{dns}/{dname}' is not ready");
            let requeue = Requeue::After(ctl.dependency_requeue);
            return Err(Failure::new(reasons::DEPENDENCY_NOT_READY, msg, requeue));
        }
    }
    Ok(())
}

/// The module copied out of the artifact, `terraform init`, the
/// workspace.
///
/// # Errors
/// `ArtifactFailed`, `TFExecInitFailed`, `SelectWorkspaceFailed`
/// (`retryInterval`).
async fn prepare(
    ctl: &TofuController,
    pass: &Pass<'_>,
    tree: &std::path::Path,
    spec: &Spec,
) -> Result<Terraform, Failure> {
    let retry = Requeue::After(spec.retry_interval);
    let tf = workdir(ctl, tree, spec, pass.namespace(), pass.name())
        .map_err(|e| Failure::new(reasons::ARTIFACT_FAILED, e, retry))?;
    tf.init().await.map_err(|e| {
        let msg = format!("error running Init: {}", text(&e));
        Failure::new(reasons::INIT_FAILED, msg, retry)
    })?;
    if spec.workspace != "default" {
        tf.select_workspace(&spec.workspace).await.map_err(|e| {
            let msg = format!("error selecting the workspace: {}", text(&e));
            Failure::new(reasons::WORKSPACE_FAILED, msg, retry)
        })?;
    }
    Ok(tf)
}

/// What drift detection found.
enum Drift {
    /// It did not run ([`status::should_detect_drift`]).
    Unchecked,
    /// Nothing: the infrastructure is as this revision applied it.
    None,
    /// Changes, to be applied (`approvePlan: auto`).
    Found,
}

/// Drift detection, once this revision was applied: `terraform plan`;
/// changes → `Ready=False` `DriftDetected` (the plan's summary) and
/// `lastDriftDetectedAt`.
///
/// # Errors
/// `DriftDetectionFailed`; `DriftDetected` itself unless the plan is
/// applied automatically (`retryInterval`).
async fn detect_drift(
    pass: &mut Pass<'_>,
    tf: &Terraform,
    spec: &Spec,
    revision: &str,
) -> Result<Drift, Failure> {
    if !status::should_detect_drift(&pass.w, spec, revision) {
        return Ok(Drift::Unchecked);
    }
    let retry = Requeue::After(spec.retry_interval);
    let plan = tf.plan("tfdrift", COMMAND_TIMEOUT).await.map_err(|e| {
        let msg = format!("error running Plan: {}", text(&e));
        Failure::new(reasons::DRIFT_DETECTION_FAILED, msg, retry).of(revision)
    })?;
    if !plan.changes {
        return Ok(Drift::None);
    }
    let now = status::now(pass);
    pass.w.set("lastDriftDetectedAt", now);
    let reason = reasons::DRIFT_DETECTED;
    ready(pass, "False", reason, &plan.summary, Some(revision));
    pass.write();
    tracing::debug!(terraform = %format!("{}/{}", pass.namespace(), pass.name()), drift = %plan.summary, "drift detected");
    if !spec.auto_apply() {
        return Err(Failure::new(reason, plan.summary, retry).of(revision));
    }
    Ok(Drift::Found)
}

/// What planning came to.
enum Planned {
    /// Nothing to apply.
    NoChanges,
    /// Changes waiting for `approvePlan` to name the plan.
    Unapproved,
    /// Changes to apply now.
    Approved(Approved),
}

/// A plan to apply.
struct Approved {
    /// Its name, `plan-<rev>`.
    plan_id: String,
    /// The plan applied before it.
    last_applied: String,
}

/// `terraform plan`: with changes `Plan=True` `TerraformPlannedWithChanges`
/// "Plan generated", `plan.pending` `plan-<rev>`; without `Plan=False`
/// `TerraformPlannedNoChanges`; `lastPlannedRevision`. A plan waiting for
/// approval says which `approvePlan` approves it.
///
/// # Errors
/// `TFExecPlanFailed` (`retryInterval`).
async fn plan(
    pass: &mut Pass<'_>,
    tf: &Terraform,
    spec: &Spec,
    revision: &str,
    drifted: bool,
) -> Result<Planned, Failure> {
    ready(
        pass,
        "Unknown",
        reasons::PROGRESSING,
        "Terraform Planning",
        None,
    );
    pass.write();
    let plan = tf.plan("tfplan", COMMAND_TIMEOUT).await.map_err(|e| {
        let msg = format!("error running Plan: {}", text(&e));
        let retry = Requeue::After(spec.retry_interval);
        Failure::new(reasons::PLAN_FAILED, msg, retry).of(revision)
    })?;
    let last_applied = plan_field(&pass.w, "lastApplied");
    pass.w.set("lastPlannedRevision", json!(revision));
    if !plan.changes {
        let reason = reasons::PLANNED_NO_CHANGES;
        condition(pass, "Plan", "False", reason, "Plan no changes");
        set_plan(&mut pass.w, &last_applied, "", false);
        return Ok(Planned::NoChanges);
    }
    let plan_id = format!("plan-{}", revision.replacen('/', "-", 1));
    let reason = reasons::PLANNED_WITH_CHANGES;
    condition(pass, "Plan", "True", reason, "Plan generated");
    set_plan(&mut pass.w, &last_applied, &plan_id, drifted);
    let approved = spec.auto_apply()
        || (!spec.approve_plan.is_empty() && plan_id.starts_with(&spec.approve_plan));
    let message = if approved {
        "Plan generated".to_owned()
    } else {
        format!("Plan generated: set approvePlan: \"{plan_id}\" to approve this plan.")
    };
    ready(pass, "Unknown", reason, &message, Some(revision));
    pass.write();
    if !approved {
        return Ok(Planned::Unapproved);
    }
    Ok(Planned::Approved(Approved {
        plan_id,
        last_applied,
    }))
}

/// `terraform apply` of the plan: `Apply=True` `TerraformAppliedSucceed`
/// "Applied successfully", `lastAppliedRevision`, `plan.lastApplied`,
/// `lastAppliedByDriftDetectionAt` after a drift, `Ready=True`.
///
/// # Errors
/// `TFExecApplyFailed`, with `Apply=False` `TerraformAppliedFail`
/// (`retryInterval`).
async fn apply(
    pass: &mut Pass<'_>,
    tf: &Terraform,
    spec: &Spec,
    revision: &str,
    plan: &Approved,
    drifted: bool,
) -> Result<(), Failure> {
    ready(pass, "Unknown", reasons::PROGRESSING, "Applying", None);
    condition(
        pass,
        "Apply",
        "Unknown",
        reasons::PROGRESSING,
        "Apply started",
    );
    pass.write();
    if let Err(e) = tf.apply_plan("tfplan", COMMAND_TIMEOUT).await {
        let msg = format!("error running Apply: {}", text(&e));
        condition(pass, "Apply", "False", "TerraformAppliedFail", &msg);
        set_plan(&mut pass.w, &plan.last_applied, "", false);
        let retry = Requeue::After(spec.retry_interval);
        return Err(Failure::new(reasons::APPLY_FAILED, msg, retry).of(revision));
    }
    condition(
        pass,
        "Apply",
        "True",
        reasons::APPLIED,
        "Applied successfully",
    );
    set_plan(&mut pass.w, &plan.plan_id, "", false);
    if drifted {
        let now = status::now(pass);
        pass.w.set("lastAppliedByDriftDetectionAt", now);
    }
    pass.w.set("lastAppliedRevision", json!(revision));
    let msg = format!("Applied successfully: {revision}");
    ready(pass, "True", reasons::APPLIED, &msg, Some(revision));
    pass.write();
    Ok(())
}

/// The module's outputs: `Output=True` `TerraformOutputsAvailable`,
/// `availableOutputs`; written to `writeOutputsToSecret` when asked
/// (`TerraformOutputsWritten` "Outputs written: <rev>"). Returns the
/// pass's `Ready`.
///
/// # Errors
/// `TFExecOutputFailed`, `OutputsWritingFailed` (`retryInterval`).
async fn outputs(
    ctl: &TofuController,
    pass: &mut Pass<'_>,
    tf: &Terraform,
    spec: &Spec,
    revision: &str,
) -> Result<Ready, Failure> {
    let retry = Requeue::After(spec.retry_interval);
    let interval = Requeue::After(spec.interval);
    let outputs = tf.outputs().await.map_err(|e| {
        let msg = format!("error running Output: {}", text(&e));
        Failure::new(reasons::OUTPUT_FAILED, msg, retry).of(revision)
    })?;
    if !outputs.is_empty() {
        pass.w.set("availableOutputs", json!(outputs.names()));
        let reason = "TerraformOutputsAvailable";
        condition(pass, "Output", "True", reason, "Outputs available");
    }
    let applied = format!("Applied successfully: {revision}");
    let Some(wots) = spec.write_outputs.as_ref().filter(|_| !outputs.is_empty()) else {
        // Ready as the apply left it.
        return Ok(Ready::new(reasons::APPLIED, applied, interval).of(revision));
    };
    outputs::write(ctl, &pass.obj, wots, &outputs)
        .await
        .map_err(|e| Failure::new(reasons::OUTPUTS_WRITING_FAILED, e, retry).of(revision))?;
    let reason = reasons::OUTPUTS_WRITTEN;
    condition(pass, "Output", "True", reason, "Outputs written");
    let msg = format!("Outputs written: {revision}");
    Ok(Ready::new(reason, msg, interval).of(revision))
}
