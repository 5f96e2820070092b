//! The steps of a HelmRelease reconcile, in helm-controller's order (the
//! order decides which reason a failure reports), after the skeleton's
//! deletion (`helm uninstall`), finalizer and suspension
//! ([`crate::sim::flux::reconcile`]):
//!
//! 1. an unusable spec stalls (`InvalidSpec`);
//! 2. `Reconciling` `Progressing` "Fulfilling prerequisites";
//! 3. `dependsOn` (other HelmReleases) not existing, not reconciled at
//!    their generation or not Ready → `DependencyNotReady` (30 s);
//! 4. the source: the `HelmChart` of the `spec.chart` template
//!    ([`super::chart_template`]), applied, recorded as `status.helmChart`;
//!    not Ready at its generation, or without artifact → `SourceNotReady`
//!    "HelmChart '<ns>/<name>' is not ready: …"; an artifact without a
//!    usable `Chart.yaml` → `ArtifactFailed` "Could not load chart: …";
//! 5. `values` and `valuesFrom` ([`super::values`]) → `ValuesError`;
//! 6. `lastAttemptedRevision` (the chart version),
//!    `lastAttemptedConfigDigest`, `lastAttemptedGeneration`,
//!    `storageNamespace`; the failures of this chart version and these
//!    values already exhausted the retries (the default `retries: 0`) →
//!    stays `Stalled` `RetriesExceeded`, no action;
//! 7. in sync (Helm's latest release is `deployed` with this chart version
//!    and these values, as `status.history` recorded it) → `Ready` as it
//!    was, no action;
//! 8. the action, `install` when Helm has no release, else `upgrade`:
//!    `Reconciling` and `Ready=Unknown` "Running '<action>' action with
//!    timeout of 5m0s"; the real `helm upgrade --install`, then the health
//!    of the release's objects within `timeout` of simulated time; a
//!    failure of either → `Released=False` `InstallFailed`/`UpgradeFailed`
//!    "Helm install failed for release <ns>/<rel> with chart <c>@<v>:
//!    <err>", the failure counters, `Stalled` `RetriesExceeded`; success
//!    → `Released=True` `InstallSucceeded`/`UpgradeSucceeded` "Helm install
//!    succeeded for release <ns>/<rel>.v<N> with chart <c>@<v>",
//!    `status.history`, `Ready=True` with the same reason and message.
//!
//! Success requeues at `interval`.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::release::{self, Chart, Stored};
use super::spec::Spec;
use super::{HelmController, gvr, values};
use crate::flux::duration;
use crate::sim::flux::reconcile::{Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{reasons, types};
use crate::sim::storage::store::{ObjectRef, Store, conditions};

/// helm-controller's own reasons and condition types.
pub mod helm_reasons {
    /// `Released`.
    pub const RELEASED: &str = "Released";
    /// A first release succeeded.
    pub const INSTALL_SUCCEEDED: &str = "InstallSucceeded";
    /// A first release failed.
    pub const INSTALL_FAILED: &str = "InstallFailed";
    /// An upgrade succeeded.
    pub const UPGRADE_SUCCEEDED: &str = "UpgradeSucceeded";
    /// An upgrade failed.
    pub const UPGRADE_FAILED: &str = "UpgradeFailed";
    /// The chart's source has no artifact.
    pub const SOURCE_NOT_READY: &str = "SourceNotReady";
    /// `values`/`valuesFrom` could not be composed.
    pub const VALUES_ERROR: &str = "ValuesError";
    /// The retries are exhausted.
    pub const RETRIES_EXCEEDED: &str = "RetriesExceeded";
}
use helm_reasons as hr;

/// The steps (see the module docs).
pub async fn reconcile(ctl: &HelmController, pass: &mut Pass<'_>) -> Reconciled {
    let obj = pass.obj.clone();
    let spec = Spec::read(&obj).map_err(|e| Failure::stalled("InvalidSpec", e))?;
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING,
        "Fulfilling prerequisites",
    );
    pass.write();
    dependencies(ctl, pass.store(), &spec)?;
    let chart = chart(ctl, pass)?;
    let values = values::compose(pass.store(), pass.namespace(), &spec).map_err(|e| {
        let retry = Requeue::After(spec.interval);
        Failure::new(hr::VALUES_ERROR, e, retry)
    })?;
    let digest = config_digest(&values);
    let exhausted = failed_before(&pass.w, &chart, &digest);
    pass.w.set("lastAttemptedRevision", json!(chart.version));
    pass.w.set("lastAttemptedConfigDigest", json!(digest));
    pass.w
        .set("lastAttemptedGeneration", json!(pass.w.generation));
    pass.w.set("storageNamespace", json!(spec.namespace));
    if exhausted {
        return Err(stall(pass));
    }
    let stored = release::latest(pass.store(), &spec.namespace, &spec.release_name);
    if let Some(ready) = in_sync(pass, &spec, &chart, &digest, stored.as_ref()) {
        return ready.done();
    }
    act(ctl, pass, &spec, &chart, &values, &digest, stored.is_some()).await
}

/// `dependsOn`: every HelmRelease named exists, was reconciled at its
/// generation and is Ready.
fn dependencies(ctl: &HelmController, store: &Store, spec: &Spec) -> Result<(), Failure> {
    for (ns, name) in &spec.depends_on {
        let ready = store
            .get(&ObjectRef::namespaced(gvr(), ns, name))
            .ok()
            .is_some_and(|d| {
                conditions::condition_status(&d, types::READY) == Some("True")
                    && d.pointer("/metadata/generation") == d.pointer("/status/observedGeneration")
            });
        if !ready {
            let msg = format!("dependency '{ns}/{name}' is not ready");
            let requeue = Requeue::After(ctl.dependency_requeue);
            return Err(Failure::new(reasons::DEPENDENCY_NOT_READY, msg, requeue));
        }
    }
    Ok(())
}

/// The chart: the artifact of the HelmChart the `spec.chart` template
/// makes ([`super::chart_template`]), recorded as `status.helmChart`.
fn chart(ctl: &HelmController, pass: &mut Pass<'_>) -> Result<Chart, Failure> {
    let obj = pass.obj.clone();
    let (ns, name) = super::chart_template::chart_key(&obj);
    pass.w.set("helmChart", json!(format!("{ns}/{name}")));
    super::chart_template::chart(ctl, pass.store(), &obj)
}

/// `sha256:` of the values as key-sorted YAML (helm-controller's config
/// digest).
fn config_digest(values: &Value) -> String {
    // serde_json's maps are sorted (no `preserve_order`), and so is their YAML.
    let yaml = serde_yaml::to_string(values).unwrap_or_default();
    let hex: String = Sha256::digest(yaml.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256:{hex}")
}

/// A failed attempt with this chart version and these values already
/// exhausted the retries (`retries: 0`, helm-controller's default).
fn failed_before(w: &crate::sim::flux::status::Working, chart: &Chart, digest: &str) -> bool {
    let failures = w.get("failures").and_then(Value::as_u64).unwrap_or(0);
    failures > 0
        && w.get("lastAttemptedRevision").and_then(Value::as_str) == Some(chart.version.as_str())
        && w.get("lastAttemptedConfigDigest").and_then(Value::as_str) == Some(digest)
}

/// `Stalled` `RetriesExceeded`; Ready as the last attempt left it.
fn stall(pass: &mut Pass<'_>) -> Failure {
    let action = pass
        .w
        .get("lastAttemptedReleaseAction")
        .and_then(Value::as_str)
        .unwrap_or("install")
        .to_owned();
    let msg = format!("Failed to {action} after 1 attempt(s)");
    pass.w
        .mark(types::STALLED, "True", hr::RETRIES_EXCEEDED, &msg);
    let ready = condition(&pass.w.obj, types::READY);
    let field = |f: &str| {
        ready
            .and_then(|c| c.get(f))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let reason = if action == "upgrade" {
        hr::UPGRADE_FAILED
    } else {
        hr::INSTALL_FAILED
    };
    Failure::new(reason, field("message"), Requeue::Never)
}

fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// `Ready` as it was when Helm's latest release is the one
/// `status.history` recorded, deployed, with this chart and these values.
fn in_sync(
    pass: &Pass<'_>,
    spec: &Spec,
    chart: &Chart,
    digest: &str,
    stored: Option<&Stored>,
) -> Option<Ready> {
    let stored = stored.filter(|s| s.status == "deployed")?;
    let h = pass.w.get("history")?.get(0)?;
    let same = h["name"] == spec.release_name.as_str()
        && h["namespace"] == spec.namespace.as_str()
        && h["version"] == stored.version
        && h["status"] == "deployed"
        && h["chartName"] == chart.name.as_str()
        && h["chartVersion"] == chart.version.as_str()
        && h["configDigest"] == digest;
    let released = condition(&pass.w.obj, hr::RELEASED)
        .filter(|c| c["status"] == "True")?
        .clone();
    let reason = match released["reason"].as_str() {
        Some(hr::UPGRADE_SUCCEEDED) => hr::UPGRADE_SUCCEEDED,
        _ => hr::INSTALL_SUCCEEDED,
    };
    let message = released["message"].as_str().unwrap_or_default();
    same.then(|| Ready::new(reason, message, Requeue::After(spec.interval)))
}

/// The Helm action and the health of its objects.
async fn act(
    ctl: &HelmController,
    pass: &mut Pass<'_>,
    spec: &Spec,
    chart: &Chart,
    values: &Value,
    digest: &str,
    upgrade: bool,
) -> Reconciled {
    let action = if upgrade { "upgrade" } else { "install" };
    let running = format!(
        "Running '{action}' action with timeout of {}",
        duration::format(spec.timeout)
    );
    pass.w
        .mark(types::RECONCILING, "True", reasons::PROGRESSING, &running);
    pass.w
        .mark(types::READY, "Unknown", reasons::PROGRESSING, &running);
    pass.w.set("lastAttemptedReleaseAction", json!(action));
    pass.write();
    let helm = release::helm(ctl)
        .map_err(|e| Failure::new(reasons::ARTIFACT_FAILED, e, Requeue::Backoff))?;
    let rel = format!("{}/{}", spec.namespace, spec.release_name);
    let result = match release::upgrade(&helm, spec, chart, values).await {
        Ok(manifest) => {
            let targets = release::targets(pass.store(), &spec.namespace, &manifest);
            let store = pass.store().clone();
            let timeout = spec.timeout;
            pass.released(|busy| async move {
                release::wait_healthy(&store, &targets, timeout, busy).await
            })
            .await
        }
        Err(e) => Err(e),
    };
    pass.w.now = pass.store().now_rfc3339();
    let stored = release::latest(pass.store(), &spec.namespace, &spec.release_name);
    if let Err(e) = result {
        return Err(failed(pass, action, &rel, chart, &e));
    }
    let version = stored.map_or(1, |s| s.version);
    let (reason, verb) = if upgrade {
        (hr::UPGRADE_SUCCEEDED, "upgrade")
    } else {
        (hr::INSTALL_SUCCEEDED, "install")
    };
    let msg = format!(
        "Helm {verb} succeeded for release {rel}.v{version} with chart {}",
        chart.id()
    );
    pass.w.mark(hr::RELEASED, "True", reason, &msg);
    let now = pass.w.now.clone();
    let first = pass
        .w
        .get("history")
        .and_then(|h| h.get(0))
        .filter(|h| h["name"] == spec.release_name.as_str() && upgrade)
        .and_then(|h| h.get("firstDeployed").cloned())
        .unwrap_or_else(|| json!(now));
    pass.w.set(
        "history",
        json!([{
            "name": spec.release_name, "namespace": spec.namespace, "version": version,
            "status": "deployed", "chartName": chart.name, "chartVersion": chart.version,
            "appVersion": chart.app_version, "configDigest": digest,
            "firstDeployed": first, "lastDeployed": now,
        }]),
    );
    for counter in ["failures", "installFailures", "upgradeFailures"] {
        pass.w.unset(counter);
    }
    Ready::new(reason, msg, Requeue::After(spec.interval)).done()
}

/// A failed action: `Released=False`, the counters, `Stalled`
/// `RetriesExceeded` (retries: 0).
fn failed(pass: &mut Pass<'_>, action: &str, rel: &str, chart: &Chart, err: &str) -> Failure {
    let reason = if action == "upgrade" {
        hr::UPGRADE_FAILED
    } else {
        hr::INSTALL_FAILED
    };
    let msg = format!(
        "Helm {action} failed for release {rel} with chart {}: {err}",
        chart.id()
    );
    pass.w.mark(hr::RELEASED, "False", reason, &msg);
    let bump = |w: &mut crate::sim::flux::status::Working, f: &str| {
        let n = w.get(f).and_then(Value::as_u64).unwrap_or(0) + 1;
        w.set(f, json!(n));
    };
    bump(&mut pass.w, "failures");
    bump(&mut pass.w, &format!("{action}Failures"));
    let stalled = format!("Failed to {action} after 1 attempt(s)");
    pass.w
        .mark(types::STALLED, "True", hr::RETRIES_EXCEEDED, &stalled);
    tracing::debug!(helmrelease = %format!("{}/{}", pass.namespace(), pass.name()), %msg, "release failed");
    Failure::new(reason, msg, Requeue::Never)
}
