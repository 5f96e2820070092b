//! One `Terraform` reconcile, in the order the real controller runs it
//! (the order decides which reason a failure reports):
//!
//! 1. deletion: `terraform destroy` when `destroyResourcesOnDeletion`,
//!    then the finalizer goes; otherwise add it; stop when suspended;
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

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;
use serde_json::{Value, json};

use super::spec::Spec;
use super::{COMMAND_TIMEOUT, FINALIZER, TofuController, gvr};
use crate::clock::Busy;
use crate::gitops::apply::Manifest;
use crate::sim::flux::runner::{Key, Requeue};
use crate::sim::flux::status::{Working, deleting, suspended};
use crate::sim::storage::store::{ObjectRef, Store, WriteOptions, conditions};
use crate::terraform::{self as tf, Terraform, backend};

/// The field manager of status writes.
const STATUS_MANAGER: &str = "tf-controller";

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

fn set_finalizer(store: &Store, r: &ObjectRef, present: bool) {
    let _ = store.mutate(r, false, &WriteOptions::manager(STATUS_MANAGER), |o| {
        let list = o
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let has = list.iter().any(|x| x.as_str() == Some(FINALIZER));
        match (present, has) {
            (true, false) => {
                let mut l = list;
                l.push(json!(FINALIZER));
                o["metadata"]["finalizers"] = Value::Array(l);
            }
            (false, true) => {
                let l: Vec<Value> = list
                    .into_iter()
                    .filter(|x| x.as_str() != Some(FINALIZER))
                    .collect();
                o["metadata"]["finalizers"] = Value::Array(l);
            }
            _ => {}
        }
        Ok(())
    });
}

fn has_finalizer(obj: &Value) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(FINALIZER)))
}

/// One reconcile's state: the object's status being built, and how to
/// write it.
struct Run<'a> {
    ctl: &'a TofuController,
    r: ObjectRef,
    w: Working,
    ns: String,
    name: String,
}

impl Run<'_> {
    fn write(&mut self) {
        self.w.now = self.ctl.store.now_rfc3339();
        let status = self
            .w
            .obj
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let _ = self
            .ctl
            .store
            .mutate(&self.r, true, &WriteOptions::manager(STATUS_MANAGER), |o| {
                o["status"] = status;
                Ok(())
            });
    }

    /// `Ready` with the real controller's bookkeeping: the observed
    /// generation, and the revision attempted.
    fn ready(&mut self, status: &str, reason: &str, message: &str, revision: Option<&str>) {
        self.w.now = self.ctl.store.now_rfc3339();
        self.w.mark("Ready", status, reason, message);
        let generation = self.w.generation;
        self.w.set("observedGeneration", json!(generation));
        if let Some(rev) = revision {
            self.w.set("lastAttemptedRevision", json!(rev));
        }
    }

    fn condition(&mut self, type_: &str, status: &str, reason: &str, message: &str) {
        self.w.now = self.ctl.store.now_rfc3339();
        self.w.mark(type_, status, reason, message);
    }

    /// `Ready=False` with `reason`, written; requeue at `requeue`.
    fn fail(
        mut self,
        reason: &str,
        message: &str,
        revision: Option<&str>,
        requeue: Requeue,
        busy: Busy,
    ) -> (Requeue, Busy) {
        self.ready("False", reason, message, revision);
        self.w.finalize();
        self.write();
        tracing::debug!(terraform = %format!("{}/{}", self.ns, self.name), reason, message, "reconciliation failed");
        (requeue, busy)
    }

    fn status_str(&self, field: &str) -> Option<String> {
        self.w.get(field).and_then(Value::as_str).map(str::to_owned)
    }

    fn plan_field(&self, field: &str) -> String {
        self.w
            .get("plan")
            .and_then(|p| p.get(field))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    fn set_plan(&mut self, last_applied: &str, pending: &str, drift: bool) {
        self.w.set(
            "plan",
            json!({"lastApplied": last_applied, "pending": pending, "isDriftDetectionPlan": drift}),
        );
    }

    /// The real controller's `shouldDetectDrift`: once everything of this
    /// revision was applied (or planned without changes), and nothing is
    /// pending.
    fn should_detect_drift(&self, spec: &Spec, revision: &str) -> bool {
        if spec.disable_drift_detection {
            return false;
        }
        if spec.approve_plan == "disable" {
            return true;
        }
        let attempted = self.status_str("lastAttemptedRevision");
        let planned = self.status_str("lastPlannedRevision");
        attempted.as_deref() == Some(revision)
            && planned.as_deref() == Some(revision)
            && self.plan_field("pending").is_empty()
    }
}

/// A fresh working copy of the module of `tree/<spec.path>`, with the
/// backend and the variables written; Terraform in it.
fn workdir(
    ctl: &TofuController,
    tree: &std::path::Path,
    spec: &Spec,
    ns: &str,
    name: &str,
) -> Result<Terraform, String> {
    let module = tree.join(spec.module_path());
    if !module.is_dir() {
        return Err(format!(
            "terraform path not found: stat {}: no such file or directory",
            spec.path
        ));
    }
    let root: PathBuf = ctl.work.join(ns).join(name);
    let _ = std::fs::remove_dir_all(&root);
    let dir = tf::module::copy(&module, &root).map_err(|e| e.to_string())?;
    backend::write_kubernetes_backend(&dir, &spec.secret_suffix, ns, &ctl.kubeconfig)
        .and_then(|()| backend::write_vars(&dir, &spec.vars))
        .map_err(|e| format!("cannot write the backend and variables: {e}"))?;
    Ok(Terraform::new(dir, spec.path.clone(), ctl.tools.clone()))
}

/// The failure's text: the command's last lines, one message.
fn text(e: &tf::Error) -> String {
    crate::gitops::apply::error::chain(e)
}

pub(super) async fn reconcile(
    ctl: &TofuController,
    (ns, name): Key,
    busy: Busy,
) -> (Requeue, Busy) {
    let store = &ctl.store;
    let r = ObjectRef::namespaced(gvr(), &ns, &name);
    let Ok(obj) = store.get(&r) else {
        return (Requeue::Never, busy);
    };
    if deleting(&obj) {
        if has_finalizer(&obj) {
            finalize(ctl, &obj, &ns, &name).await;
            set_finalizer(store, &r, false);
        }
        let _ = std::fs::remove_dir_all(ctl.work.join(&ns).join(&name));
        return (Requeue::Never, busy);
    }
    if !has_finalizer(&obj) {
        set_finalizer(store, &r, true);
    }
    if suspended(&obj) {
        return (Requeue::Never, busy);
    }
    let mut run = Run {
        ctl,
        r,
        w: Working::new(&obj, store.now_rfc3339()),
        ns: ns.clone(),
        name: name.clone(),
    };
    let spec = match Spec::read(&obj) {
        Ok(s) => s,
        Err(e) => {
            return run.fail(
                reasons::VARS_GENERATION_FAILED,
                &e,
                None,
                Requeue::Never,
                busy,
            );
        }
    };
    let retry = Requeue::After(spec.retry_interval);

    // Source and artifact.
    let source_id = format!(
        "{}/{}/{}",
        spec.source.kind, spec.source.namespace, spec.source.name
    );
    if spec.source.kind != "GitRepository" {
        let msg = format!("Source '{source_id}' kind is not supported by gameday's emulation");
        return run.fail(reasons::ARTIFACT_FAILED, &msg, None, Requeue::Never, busy);
    }
    let source = ObjectRef::namespaced(
        super::super::source::gvr(),
        &spec.source.namespace,
        &spec.source.name,
    );
    let Ok(src) = store.get(&source) else {
        let msg = format!("Source '{source_id}' not found");
        return run.fail(reasons::ARTIFACT_FAILED, &msg, None, retry, busy);
    };
    let revision = src
        .pointer("/status/artifact/revision")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let tree = src
        .pointer("/status/artifact/path")
        .and_then(Value::as_str)
        .and_then(|p| ctl.artifacts.tree(p))
        .filter(|t| t.is_dir());
    let (Some(revision), Some(tree)) = (revision, tree) else {
        let msg = "Source is not ready, artifact not found";
        return run.fail(reasons::ARTIFACT_FAILED, msg, None, retry, busy);
    };

    // Dependencies.
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
            return run.fail(reasons::DEPENDENCY_NOT_READY, &msg, None, requeue, busy);
        }
    }

    run.ready(
        "Unknown",
        reasons::PROGRESSING,
        "Reconciliation in progress",
        None,
    );
    run.write();
    let tf = match workdir(ctl, &tree, &spec, &ns, &name) {
        Ok(t) => t,
        Err(e) => return run.fail(reasons::ARTIFACT_FAILED, &e, Some(&revision), retry, busy),
    };
    if let Err(e) = tf.init().await {
        let msg = format!("error running Init: {}", text(&e));
        return run.fail(reasons::INIT_FAILED, &msg, Some(&revision), retry, busy);
    }
    if spec.workspace != "default"
        && let Err(e) = tf.select_workspace(&spec.workspace).await
    {
        let msg = format!("error selecting the workspace: {}", text(&e));
        return run.fail(
            reasons::WORKSPACE_FAILED,
            &msg,
            Some(&revision),
            retry,
            busy,
        );
    }

    // Drift detection.
    let mut drifted = false;
    if run.should_detect_drift(&spec, &revision) {
        match tf.plan("tfdrift", COMMAND_TIMEOUT).await {
            Err(e) => {
                let msg = format!("error running Plan: {}", text(&e));
                return run.fail(
                    reasons::DRIFT_DETECTION_FAILED,
                    &msg,
                    Some(&revision),
                    retry,
                    busy,
                );
            }
            Ok(plan) if plan.changes => {
                drifted = true;
                let now = run.ctl.store.now_rfc3339();
                run.w.set("lastDriftDetectedAt", json!(now));
                run.ready(
                    "False",
                    reasons::DRIFT_DETECTED,
                    &plan.summary,
                    Some(&revision),
                );
                run.write();
                tracing::debug!(terraform = %format!("{ns}/{name}"), drift = %plan.summary, "drift detected");
                if !spec.auto_apply() {
                    run.w.finalize();
                    run.write();
                    return (retry, busy);
                }
            }
            Ok(_) => {
                let msg = format!("No drift: {revision}");
                run.ready("True", reasons::NO_DRIFT, &msg, Some(&revision));
                run.w.finalize();
                run.write();
                return (Requeue::After(spec.interval), busy);
            }
        }
    }
    if spec.approve_plan == "disable" {
        run.w.finalize();
        run.write();
        return (Requeue::After(spec.interval), busy);
    }

    // Plan.
    run.ready("Unknown", reasons::PROGRESSING, "Terraform Planning", None);
    run.write();
    let plan = match tf.plan("tfplan", COMMAND_TIMEOUT).await {
        Ok(p) => p,
        Err(e) => {
            let msg = format!("error running Plan: {}", text(&e));
            return run.fail(reasons::PLAN_FAILED, &msg, Some(&revision), retry, busy);
        }
    };
    let last_applied = run.plan_field("lastApplied");
    run.w.set("lastPlannedRevision", json!(revision));
    if !plan.changes {
        run.condition(
            "Plan",
            "False",
            reasons::PLANNED_NO_CHANGES,
            "Plan no changes",
        );
        run.set_plan(&last_applied, "", false);
        let msg = format!("Plan no changes: {revision}");
        run.ready("True", reasons::PLANNED_NO_CHANGES, &msg, Some(&revision));
        run.w.finalize();
        run.write();
        return (Requeue::After(spec.interval), busy);
    }
    let plan_id = format!("plan-{}", revision.replacen('/', "-", 1));
    run.condition(
        "Plan",
        "True",
        reasons::PLANNED_WITH_CHANGES,
        "Plan generated",
    );
    run.set_plan(&last_applied, &plan_id, drifted);
    let approved = spec.auto_apply()
        || (!spec.approve_plan.is_empty() && plan_id.starts_with(&spec.approve_plan));
    let message = if approved {
        "Plan generated".to_owned()
    } else {
        format!("Plan generated: set approvePlan: \"{plan_id}\" to approve this plan.")
    };
    run.ready(
        "Unknown",
        reasons::PLANNED_WITH_CHANGES,
        &message,
        Some(&revision),
    );
    run.write();
    if !approved {
        run.w.finalize();
        run.write();
        return (Requeue::Never, busy);
    }

    // Apply.
    run.ready("Unknown", reasons::PROGRESSING, "Applying", None);
    run.condition("Apply", "Unknown", reasons::PROGRESSING, "Apply started");
    run.write();
    if let Err(e) = tf.apply_plan("tfplan", COMMAND_TIMEOUT).await {
        let msg = format!("error running Apply: {}", text(&e));
        run.condition("Apply", "False", "TerraformAppliedFail", &msg);
        run.set_plan(&last_applied, "", false);
        return run.fail(reasons::APPLY_FAILED, &msg, Some(&revision), retry, busy);
    }
    run.condition("Apply", "True", reasons::APPLIED, "Applied successfully");
    run.set_plan(&plan_id, "", false);
    if drifted {
        let now = run.ctl.store.now_rfc3339();
        run.w.set("lastAppliedByDriftDetectionAt", json!(now));
    }
    run.w.set("lastAppliedRevision", json!(revision));
    let msg = format!("Applied successfully: {revision}");
    run.ready("True", reasons::APPLIED, &msg, Some(&revision));
    run.write();

    // Outputs.
    let outputs = match tf.outputs().await {
        Ok(o) => o,
        Err(e) => {
            let msg = format!("error running Output: {}", text(&e));
            return run.fail(reasons::OUTPUT_FAILED, &msg, Some(&revision), retry, busy);
        }
    };
    if !outputs.is_empty() {
        run.w.set("availableOutputs", json!(outputs.names()));
        run.condition(
            "Output",
            "True",
            "TerraformOutputsAvailable",
            "Outputs available",
        );
    }
    if let Some(wots) = &spec.write_outputs
        && !outputs.is_empty()
    {
        if let Err(e) = write_outputs(ctl, &obj, wots, &outputs).await {
            return run.fail(
                reasons::OUTPUTS_WRITING_FAILED,
                &e,
                Some(&revision),
                retry,
                busy,
            );
        }
        run.condition(
            "Output",
            "True",
            reasons::OUTPUTS_WRITTEN,
            "Outputs written",
        );
        let msg = format!("Outputs written: {revision}");
        run.ready("True", reasons::OUTPUTS_WRITTEN, &msg, Some(&revision));
    }
    run.w.finalize();
    run.write();
    tracing::debug!(terraform = %format!("{ns}/{name}"), %revision, drifted, "applied");
    (Requeue::After(spec.interval), busy)
}

/// The outputs Secret, as the real controller writes it: string outputs
/// as they are, others as JSON; owned by the `Terraform` object.
async fn write_outputs(
    ctl: &TofuController,
    obj: &Value,
    wots: &super::spec::WriteOutputs,
    outputs: &tf::Outputs,
) -> Result<(), String> {
    let mut data = BTreeMap::new();
    let names: Vec<&str> = if wots.outputs.is_empty() {
        outputs.names()
    } else {
        wots.outputs.iter().map(String::as_str).collect()
    };
    for n in names {
        let Some(v) = outputs.get(n) else {
            return Err(format!("output {n:?} is not an output of the module"));
        };
        data.insert(
            n.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(v.secret_text()),
        );
    }
    let ns = obj
        .pointer("/metadata/namespace")
        .cloned()
        .unwrap_or(Value::Null);
    let owner = json!({"apiVersion": "infra.contrib.fluxcd.io/v1alpha2", "kind": "Terraform",
        "name": obj.pointer("/metadata/name"), "uid": obj.pointer("/metadata/uid"),
        "controller": true});
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": wots.name, "namespace": ns, "labels": wots.labels,
            "annotations": wots.annotations, "ownerReferences": [owner]},
        "data": data});
    ctl.applier
        .apply(vec![Manifest::new(secret)])
        .await
        .check()
        .map(|_| ())
        .map_err(|e| format!("error writing the outputs Secret {}: {e}", wots.name))
}

/// Deleting the object: `terraform destroy` of what it applied when
/// `destroyResourcesOnDeletion`, best effort (a failure is logged: the
/// finalizer goes anyway, so the object never sticks).
async fn finalize(ctl: &TofuController, obj: &Value, ns: &str, name: &str) {
    let Ok(spec) = Spec::read(obj) else { return };
    if !spec.destroy_on_deletion {
        return;
    }
    let tree = ctl
        .store
        .get(&ObjectRef::namespaced(
            super::super::source::gvr(),
            &spec.source.namespace,
            &spec.source.name,
        ))
        .ok()
        .and_then(|s| {
            s.pointer("/status/artifact/path")
                .and_then(Value::as_str)
                .and_then(|p| ctl.artifacts.tree(p))
        });
    let Some(tree) = tree else { return };
    let destroyed = match workdir(ctl, &tree, &spec, ns, name) {
        Ok(tf) => match tf.init().await {
            Ok(()) => tf
                .destroy(&BTreeMap::new(), &[], COMMAND_TIMEOUT)
                .await
                .map_err(|e| text(&e)),
            Err(e) => Err(text(&e)),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = destroyed {
        tracing::warn!(terraform = %format!("{ns}/{name}"), error = %e, "terraform destroy on deletion failed");
    }
}
