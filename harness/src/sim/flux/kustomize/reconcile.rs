//! The steps of a Kustomization reconcile, in the order Flux's
//! kustomize-controller runs them (the order decides which reason a failure
//! reports), after the skeleton's deletion (garbage-collecting the
//! inventory per `deletionPolicy`, [`finalize`]), finalizer and suspension
//! ([`crate::sim::flux::reconcile`]):
//!
//! 1. an unusable spec stalls (`InvalidSpec`), as does a
//!    `healthCheckExprs` expression that does not parse
//!    (`InvalidCELExpression`, "Reconciliation failed terminally due to
//!    configuration error: …");
//! 2. source missing, or without artifact → `ArtifactFailed`;
//! 3. `dependsOn` not ready → `DependencyNotReady` (requeue 30 s);
//! 4. `Ready=Unknown`/`Reconciling` (`Progressing`); path missing in the
//!    artifact → `ArtifactFailed` ("kustomization path not found");
//!    `lastAttemptedRevision`;
//! 5. build (`build.rs`): SOPS sources decrypted, the path built as
//!    kustomize-controller builds it (its kustomization with
//!    `targetNamespace`, `patches`, `images`, `components`,
//!    `namePrefix`/`nameSuffix` laid over it:
//!    [`crate::gitops::render::fluxbuild`]), SOPS objects decrypted,
//!    post-build substitution, `commonMetadata` on every object →
//!    `BuildFailed`; apply (as `kustomize-controller`, with Flux's owner
//!    labels) → `ReconciliationFailed`;
//! 6. prune the previous inventory's leftovers → `PruneFailed`;
//! 7. health checks (`wait` or `healthChecks`, within `timeout`; custom
//!    resources judged by `healthCheckExprs` where they name their kind,
//!    else by kstatus) → `HealthCheckFailed` (`Healthy` too);
//! 8. `Ready=True` `ReconciliationSucceeded` "Applied revision: …",
//!    `lastAppliedRevision`, `inventory`, `observedGeneration`.
//!
//! Failures requeue at `retryInterval`, success at `interval`.

use crate::sim::recorder::EventType;
use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::spec::Spec;
use super::{KustomizeController, build, deps, health};
use crate::flux::duration;
use crate::flux::health_exprs::HealthExprs;
use crate::gitops::apply::{ApplyOptions, Inventory, Manifest, ObjectId};
use crate::sim::flux::reconcile::{Cleanup, Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{reasons, suspended, types};
use crate::sim::storage::store::{ObjectRef, Store};

/// The field manager objects are applied with (and the controller's
/// name).
pub const MANAGER: &str = "kustomize-controller";
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

/// Deletion: garbage-collects the inventory (unless suspended, or
/// `deletionPolicy` keeps the objects); retried while some object could
/// not be deleted.
pub(super) async fn finalize(
    ctl: &KustomizeController,
    obj: &Value,
    ns: &str,
    name: &str,
) -> Cleanup {
    let Ok(spec) = Spec::read(obj) else {
        return Cleanup::Done;
    };
    let inventory = Inventory::from_status(obj.pointer("/status/inventory"));
    if suspended(obj) || inventory.is_empty() || !spec.deletes_on_finalize() {
        return Cleanup::Done;
    }
    let applier = ctl.applier.with_options(ApplyOptions {
        labels: owner_labels(ns, name),
        ..ApplyOptions::manager(MANAGER)
    });
    if applier.prune(&inventory).await.failed.is_empty() {
        Cleanup::Done
    } else {
        Cleanup::Retry
    }
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

/// The steps (see the module docs).
pub(super) async fn reconcile(ctl: &KustomizeController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let spec = Spec::read(&obj).map_err(|e| Failure::stalled("InvalidSpec", e))?;
    let exprs = HealthExprs::compile(&spec.health_check_exprs).map_err(|e| {
        pass.w.set("observedGeneration", json!(pass.w.generation));
        let msg = format!("Reconciliation failed terminally due to configuration error: {e}");
        Failure::stalled(reasons::INVALID_CEL_EXPRESSION, msg)
    })?;
    let retry = Requeue::After(spec.retry_interval);
    let (revision, path) = source_artifact(ctl, pass.store(), &spec)?;
    deps::check(pass.store(), &spec, &revision).map_err(|msg| {
        let requeue = Requeue::After(ctl.dependency_requeue);
        Failure::new(reasons::DEPENDENCY_NOT_READY, msg, requeue)
    })?;
    let tree = fetch(ctl, pass, &spec, &revision, &path)?;
    let objects = build::build(pass.store(), pass.namespace(), &spec, &tree, &ctl.render)
        .await
        .map_err(|msg| Failure::new(reasons::BUILD_FAILED, msg, retry))?;
    let manifests = objects.into_iter().map(Manifest::from).collect();
    let applied = apply(ctl, pass, &spec, &revision, manifests).await?;
    health(pass, &spec, &exprs, &applied, &revision).await?;
    pass.w.set("lastAppliedRevision", json!(revision));
    tracing::debug!(kustomization = %format!("{}/{}", pass.namespace(), pass.name()), %revision, "applied");
    let msg = format!("Applied revision: {revision}");
    Ready::new(
        reasons::RECONCILIATION_SUCCEEDED,
        msg,
        Requeue::After(spec.interval),
    )
    .done()
}

/// The source's artifact: (revision, path in storage).
///
/// # Errors
/// `ArtifactFailed`: a source kind other than `GitRepository` or
/// `OCIRepository` (backoff),
/// a missing source (`retryInterval`), no artifact yet (the dependency
/// requeue).
fn source_artifact(
    ctl: &KustomizeController,
    store: &Store,
    spec: &Spec,
) -> Result<(String, String), Failure> {
    let src = &spec.source;
    let failed = |msg: String, requeue| Failure::new(reasons::ARTIFACT_FAILED, msg, requeue);
    let gvr = match src.kind.as_str() {
        "GitRepository" => super::super::source::gvr(),
        "OCIRepository" => super::super::oci_repository::gvr(),
        _ => {
            let msg = format!("source `{}` kind '{}' not supported", src.name, src.kind);
            return Err(failed(msg, Requeue::Backoff));
        }
    };
    let source = ObjectRef::namespaced(gvr, &src.namespace, &src.name);
    let Ok(found) = store.get(&source) else {
        let msg = format!(
            "Source '{}/{}/{}' not found",
            src.kind, src.namespace, src.name
        );
        return Err(failed(msg, Requeue::After(spec.retry_interval)));
    };
    let field = |f: &str| {
        found
            .pointer(&format!("/status/artifact/{f}"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match (field("revision"), field("path")) {
        (Some(revision), Some(path)) => Ok((revision, path)),
        _ => {
            let msg = format!(
                "Source artifact not found, retrying in {}",
                duration::format(ctl.dependency_requeue)
            );
            Err(failed(msg, Requeue::After(ctl.dependency_requeue)))
        }
    }
}

/// `Ready=Unknown`/`Reconciling` while the manifests of `revision` are
/// fetched from the artifact at `path`; `lastAttemptedRevision`. Returns
/// the artifact's extracted tree.
///
/// # Errors
/// `ArtifactFailed`: the artifact is not in storage (the dependency
/// requeue), or `spec.path` is not in it (`retryInterval`).
fn fetch(
    ctl: &KustomizeController,
    pass: &mut Pass<'_>,
    spec: &Spec,
    revision: &str,
    path: &str,
) -> Result<PathBuf, Failure> {
    let timeout = duration::format(spec.timeout);
    let progress = |what: &str| {
        format!("{what} manifests for revision {revision} with a timeout of {timeout}")
    };
    pass.w.mark(
        types::READY,
        "Unknown",
        reasons::PROGRESSING,
        "Reconciliation in progress",
    );
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &progress("Fetching"),
    );
    pass.write();
    let Some(tree) = ctl.artifacts.tree(path).filter(|t| t.is_dir()) else {
        let msg = format!(
            "Source is not ready, artifact not found, retrying in {}",
            duration::format(ctl.dependency_requeue)
        );
        let requeue = Requeue::After(ctl.dependency_requeue);
        return Err(Failure::new(reasons::ARTIFACT_FAILED, msg, requeue));
    };
    let rel = spec.path.trim_start_matches("./").trim_start_matches('/');
    let dir = tree.join(rel);
    if !dir.exists() {
        let msg = format!(
            "kustomization path not found: stat {}: no such file or directory",
            dir.display()
        );
        let requeue = Requeue::After(spec.retry_interval);
        return Err(Failure::new(reasons::ARTIFACT_FAILED, msg, requeue));
    }
    pass.w.set("lastAttemptedRevision", json!(revision));
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        &progress("Building"),
    );
    pass.write();
    Ok(tree)
}

/// Applies the manifests as `kustomize-controller` (Flux's owner labels),
/// prunes what the previous inventory had and this one
/// has not (when `spec.prune`), and records the inventory. Returns what
/// was applied.
///
/// # Errors
/// `ReconciliationFailed` (the objects that failed, one per line) or
/// `PruneFailed` (the objects that could not be deleted stay in the
/// inventory); `retryInterval`.
async fn apply(
    ctl: &KustomizeController,
    pass: &mut Pass<'_>,
    spec: &Spec,
    revision: &str,
    manifests: Vec<Manifest>,
) -> Result<Vec<ObjectId>, Failure> {
    let retry = Requeue::After(spec.retry_interval);
    let msg = format!(
        "Detecting drift for revision {revision} with a timeout of {}",
        duration::format(spec.timeout)
    );
    pass.w
        .mark(types::RECONCILING, "True", reasons::PROGRESSING, &msg);
    pass.write();
    let applier = ctl.applier.with_options(ApplyOptions {
        labels: owner_labels(pass.namespace(), pass.name()),
        concurrency: ctl.apply_concurrency,
        ..ApplyOptions::manager(MANAGER)
    });
    let report = applier.apply(manifests).await;
    if !report.is_ok() {
        let lines: Vec<String> = report.failures().iter().map(ToString::to_string).collect();
        return Err(Failure::new(
            reasons::RECONCILIATION_FAILED,
            lines.join("\n"),
            retry,
        ));
    }
    // Flux's change set Event: one line per created or configured object,
    // under the Ready reason of the moment (Progressing).
    let changes = report.change_log();
    if !changes.is_empty() {
        pass.event(EventType::Normal, reasons::PROGRESSING, changes.trim_end());
    }
    let old = Inventory::from_status(pass.obj.pointer("/status/inventory"));
    let mut inventory = report.inventory();
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
            pass.w.set("inventory", inventory.to_json());
            let lines: Vec<String> = pruned.failed.iter().map(ToString::to_string).collect();
            return Err(Failure::new(reasons::PRUNE_FAILED, lines.join("\n"), retry));
        }
    }
    pass.w.set("inventory", inventory.to_json());
    Ok(report.applied().map(|v| v.id.clone()).collect())
}

/// Health checks of what was applied (`wait`) or of `healthChecks`, within
/// `spec.timeout` of simulated time — the only step that lets time pass —
/// and `Healthy`.
///
/// # Errors
/// `HealthCheckFailed` (`Healthy=False` too); `retryInterval`.
async fn health(
    pass: &mut Pass<'_>,
    spec: &Spec,
    exprs: &HealthExprs,
    applied: &[ObjectId],
    revision: &str,
) -> Result<(), Failure> {
    let own = ObjectId::namespaced(
        "kustomize.toolkit.fluxcd.io",
        "Kustomization",
        pass.namespace(),
        pass.name(),
    );
    let targets = health_targets(spec, applied, &own);
    if targets.is_empty() {
        pass.w.clear(types::HEALTHY);
        return Ok(());
    }
    let msg = format!(
        "Running health checks for revision {revision} with a timeout of {}",
        duration::format(spec.timeout)
    );
    pass.w
        .mark(types::RECONCILING, "True", reasons::PROGRESSING, &msg);
    pass.w
        .mark(types::HEALTHY, "Unknown", reasons::PROGRESSING, &msg);
    pass.write();
    let store = pass.store().clone();
    let exprs = exprs.clone();
    let result = pass
        .released(
            |busy| async move { health::wait(&store, &targets, &exprs, spec.timeout, busy).await },
        )
        .await;
    pass.w.now = pass.store().now_rfc3339();
    match result {
        Ok(took) => {
            let msg = format!("Health check passed in {}", duration::format(took));
            pass.w
                .mark(types::HEALTHY, "True", reasons::SUCCEEDED, &msg);
            Ok(())
        }
        Err(e) => {
            let msg = e.flux_health_message().unwrap_or_else(|| e.to_string());
            pass.w
                .mark(types::HEALTHY, "False", reasons::HEALTH_CHECK_FAILED, &msg);
            let retry = Requeue::After(spec.retry_interval);
            Err(Failure::new(reasons::HEALTH_CHECK_FAILED, msg, retry))
        }
    }
}
