//! One Kustomization reconcile, in the order Flux's kustomize-controller
//! runs it (the order decides which reason a failure reports):
//!
//! 1. deletion: garbage-collect the inventory (per `deletionPolicy`),
//!    remove the finalizer; otherwise add it; stop when suspended;
//! 2. source missing, or without artifact → `ArtifactFailed`;
//! 3. `dependsOn` not ready → `DependencyNotReady` (requeue 30 s);
//! 4. `Ready=Unknown`/`Reconciling` (`Progressing`); path missing in the
//!    artifact → `ArtifactFailed` ("kustomization path not found");
//!    `lastAttemptedRevision`;
//! 5. build → `BuildFailed`; apply (as `kustomize-controller`, with Flux's
//!    owner labels and `targetNamespace`) → `ReconciliationFailed`;
//! 6. prune the previous inventory's leftovers → `PruneFailed`;
//! 7. health checks (`wait` or `healthChecks`, within `timeout`) →
//!    `HealthCheckFailed` (`Healthy` too);
//! 8. `Ready=True` `ReconciliationSucceeded` "Applied revision: …",
//!    `lastAppliedRevision`, `inventory`, `observedGeneration`.
//!
//! Failures requeue at `retryInterval`, success at `interval`.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::spec::Spec;
use super::{KustomizeController, deps, gvr, health};
use crate::clock::Busy;
use crate::flux::duration;
use crate::gitops::apply::{ApplyOptions, Inventory, Manifest, ObjectId};
use crate::gitops::render;
use crate::sim::flux::runner::{Key, Requeue};
use crate::sim::flux::status::{
    FINALIZER, Working, deleting, has_finalizer, reasons, suspended, types,
};
use crate::sim::storage::store::{ObjectRef, Store, WriteOptions};

/// The field manager objects are applied with.
pub const MANAGER: &str = "kustomize-controller";
/// The field manager of status writes.
const STATUS_MANAGER: &str = "gotk-kustomize-controller";
/// Label naming the Kustomization that applied an object.
pub const NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
/// Label naming its namespace.
pub const NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

fn owner_labels(ns: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (NAME_LABEL.to_owned(), name.to_owned()),
        (NAMESPACE_LABEL.to_owned(), ns.to_owned()),
    ])
}

fn set_finalizer(store: &Store, r: &ObjectRef, present: bool) {
    let _ = store.mutate(r, false, &WriteOptions::manager(MANAGER), |o| {
        let has = o
            .pointer("/metadata/finalizers")
            .and_then(Value::as_array)
            .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(FINALIZER)));
        match (present, has) {
            (true, false) => match o
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                Some(f) => f.push(json!(FINALIZER)),
                None => o["metadata"]["finalizers"] = json!([FINALIZER]),
            },
            (false, true) => {
                if let Some(f) = o
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x.as_str() != Some(FINALIZER));
                }
            }
            _ => {}
        }
        Ok(())
    });
}

/// Garbage collection on deletion; false when it must be retried.
async fn finalize(ctl: &KustomizeController, obj: &Value, ns: &str, name: &str) -> bool {
    let Ok(spec) = Spec::read(obj) else {
        return true;
    };
    let inventory = Inventory::from_status(obj.pointer("/status/inventory"));
    if suspended(obj) || inventory.is_empty() || !spec.deletes_on_finalize() {
        return true;
    }
    let applier = ctl.applier.with_options(ApplyOptions {
        labels: owner_labels(ns, name),
        ..ApplyOptions::manager(MANAGER)
    });
    applier.prune(&inventory).await.failed.is_empty()
}

/// The health-check targets of a successful apply.
fn health_targets(spec: &Spec, applied: &[ObjectId], own: &ObjectId) -> Vec<ObjectId> {
    let targets: Vec<ObjectId> = if spec.wait {
        applied.to_vec()
    } else {
        spec.health_checks
            .iter()
            .map(|h| ObjectId {
                group: crate::gitops::apply::object::split_api_version(&h.api_version)
                    .0
                    .to_owned(),
                kind: h.kind.clone(),
                namespace: (!h.namespace.is_empty()).then(|| h.namespace.clone()),
                name: h.name.clone(),
            })
            .collect()
    };
    // Never wait on itself.
    targets.into_iter().filter(|t| t != own).collect()
}

pub(super) async fn reconcile(
    ctl: &KustomizeController,
    (ns, name): Key,
    busy: Busy,
) -> (Requeue, Busy) {
    let store = &ctl.store;
    let r = ObjectRef::namespaced(gvr(), &ns, &name);
    let Ok(obj) = store.get(&r) else {
        return (Requeue::Never, busy);
    };
    if deleting(&obj) {
        if finalize(ctl, &obj, &ns, &name).await {
            set_finalizer(store, &r, false);
            return (Requeue::Never, busy);
        }
        return (Requeue::Backoff, busy);
    }
    if !has_finalizer(&obj) {
        set_finalizer(store, &r, true);
    }
    if suspended(&obj) {
        return (Requeue::Never, busy);
    }
    let mut w = Working::new(&obj, store.now_rfc3339());
    let write = |w: &Working| {
        let status = w.obj.get("status").cloned().unwrap_or_else(|| json!({}));
        let _ = store.mutate(&r, true, &WriteOptions::manager(STATUS_MANAGER), |o| {
            o["status"] = status;
            Ok(())
        });
    };
    let finish = |mut w: Working, reason: &str, msg: &str, requeue: Requeue, busy: Busy| {
        w.fail(reason, msg);
        w.finalize();
        write(&w);
        tracing::debug!(kustomization = %format!("{ns}/{name}"), reason, message = msg, "reconciliation failed");
        (requeue, busy)
    };
    let spec = match Spec::read(&obj) {
        Ok(s) => s,
        Err(e) => {
            w.mark(types::STALLED, "True", "InvalidSpec", &e);
            return finish(w, "InvalidSpec", &e, Requeue::Never, busy);
        }
    };
    let retry = Requeue::After(spec.retry_interval);

    // Source and artifact.
    if spec.source.kind != "GitRepository" {
        let msg = format!(
            "source `{}` kind '{}' not supported",
            spec.source.name, spec.source.kind
        );
        return finish(w, reasons::ARTIFACT_FAILED, &msg, Requeue::Backoff, busy);
    }
    let source = ObjectRef::namespaced(
        super::super::source::gvr(),
        &spec.source.namespace,
        &spec.source.name,
    );
    let Ok(src) = store.get(&source) else {
        let msg = format!(
            "Source 'GitRepository/{}/{}' not found",
            spec.source.namespace, spec.source.name
        );
        return finish(w, reasons::ARTIFACT_FAILED, &msg, retry, busy);
    };
    let artifact = src.pointer("/status/artifact").cloned();
    let (Some(revision), Some(path)) = (
        artifact
            .as_ref()
            .and_then(|a| a.get("revision"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        artifact
            .as_ref()
            .and_then(|a| a.get("path"))
            .and_then(Value::as_str)
            .map(str::to_owned),
    ) else {
        let msg = format!(
            "Source artifact not found, retrying in {}",
            duration::format(ctl.dependency_requeue)
        );
        return finish(
            w,
            reasons::ARTIFACT_FAILED,
            &msg,
            Requeue::After(ctl.dependency_requeue),
            busy,
        );
    };

    // Dependencies.
    if let Err(msg) = deps::check(store, &spec, &revision) {
        return finish(
            w,
            reasons::DEPENDENCY_NOT_READY,
            &msg,
            Requeue::After(ctl.dependency_requeue),
            busy,
        );
    }

    // Progress.
    let timeout_text = duration::format(spec.timeout);
    w.mark(
        types::READY,
        "Unknown",
        reasons::PROGRESSING,
        "Reconciliation in progress",
    );
    w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &format!("Fetching manifests for revision {revision} with a timeout of {timeout_text}"),
    );
    write(&w);
    let Some(tree) = ctl.artifacts.tree(&path).filter(|t| t.is_dir()) else {
        let msg = format!(
            "Source is not ready, artifact not found, retrying in {}",
            duration::format(ctl.dependency_requeue)
        );
        return finish(
            w,
            reasons::ARTIFACT_FAILED,
            &msg,
            Requeue::After(ctl.dependency_requeue),
            busy,
        );
    };
    let rel = spec.path.trim_start_matches("./").trim_start_matches('/');
    let dir = tree.join(rel);
    if !dir.exists() {
        let msg = format!(
            "kustomization path not found: stat {}: no such file or directory",
            dir.display()
        );
        return finish(w, reasons::ARTIFACT_FAILED, &msg, retry, busy);
    }
    w.set("lastAttemptedRevision", json!(revision));
    w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &format!("Building manifests for revision {revision} with a timeout of {timeout_text}"),
    );
    write(&w);

    // Build.
    let rendered = match render::render_with(&tree, &spec.path, &ctl.render).await {
        Ok(r) => r,
        Err(e) => {
            let msg = format!(
                "kustomize build failed: {}",
                crate::gitops::apply::error::chain(&e)
            );
            return finish(w, reasons::BUILD_FAILED, &msg, retry, busy);
        }
    };

    // Apply.
    w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &format!("Detecting drift for revision {revision} with a timeout of {timeout_text}"),
    );
    write(&w);
    let applier = ctl.applier.with_options(ApplyOptions {
        target_namespace: spec.target_namespace.clone(),
        labels: owner_labels(&ns, &name),
        concurrency: ctl.apply_concurrency,
        ..ApplyOptions::manager(MANAGER)
    });
    let manifests: Vec<Manifest> = rendered.objects.into_iter().map(Manifest::from).collect();
    let report = applier.apply(manifests).await;
    if !report.is_ok() {
        let lines: Vec<String> = report.failures().iter().map(ToString::to_string).collect();
        return finish(
            w,
            reasons::RECONCILIATION_FAILED,
            &lines.join("\n"),
            retry,
            busy,
        );
    }
    let old = Inventory::from_status(obj.pointer("/status/inventory"));
    let mut inventory = report.inventory();

    // Prune.
    if spec.prune {
        let pruned = applier.prune(&old.stale(&inventory)).await;
        if !pruned.failed.is_empty() {
            let survivors = Inventory::from_objects(
                pruned
                    .failed
                    .iter()
                    .map(|f| crate::gitops::apply::Versioned {
                        id: f.id.clone(),
                        version: String::new(),
                    })
                    .collect::<Vec<_>>()
                    .iter(),
            );
            inventory.merge(&survivors);
            w.set("inventory", inventory.to_json());
            let lines: Vec<String> = pruned.failed.iter().map(ToString::to_string).collect();
            return finish(w, reasons::PRUNE_FAILED, &lines.join("\n"), retry, busy);
        }
    }
    w.set("inventory", inventory.to_json());

    // Health checks.
    let own = ObjectId::namespaced("kustomize.toolkit.fluxcd.io", "Kustomization", &ns, &name);
    let applied: Vec<ObjectId> = report.applied().map(|v| v.id.clone()).collect();
    let targets = health_targets(&spec, &applied, &own);
    let mut busy = busy;
    if targets.is_empty() {
        w.clear(types::HEALTHY);
    } else {
        let msg = format!(
            "Running health checks for revision {revision} with a timeout of {timeout_text}"
        );
        w.mark(types::RECONCILING, "True", reasons::PROGRESSING, &msg);
        w.mark(types::HEALTHY, "Unknown", reasons::PROGRESSING, &msg);
        write(&w);
        let (result, held) = health::wait(store, &targets, spec.timeout, busy).await;
        busy = held;
        w.now = store.now_rfc3339();
        match result {
            Ok(took) => {
                let msg = format!("Health check passed in {}", duration::format(took));
                w.mark(types::HEALTHY, "True", reasons::SUCCEEDED, &msg);
            }
            Err(e) => {
                let msg = e.flux_health_message().unwrap_or_else(|| e.to_string());
                w.mark(types::HEALTHY, "False", reasons::HEALTH_CHECK_FAILED, &msg);
                return finish(w, reasons::HEALTH_CHECK_FAILED, &msg, retry, busy);
            }
        }
    }

    // Success.
    w.set("lastAppliedRevision", json!(revision));
    w.mark(
        types::READY,
        "True",
        reasons::RECONCILIATION_SUCCEEDED,
        &format!("Applied revision: {revision}"),
    );
    w.clear(types::STALLED);
    w.finalize();
    write(&w);
    tracing::debug!(kustomization = %format!("{ns}/{name}"), %revision, "applied");
    (Requeue::After(spec.interval), busy)
}
