//! The actions of a HelmRelease, each as helm-controller's action
//! reconcilers (`internal/reconcile/{install,upgrade,test,
//! rollback_remediation,uninstall_remediation,correct_cluster_drift}.go`)
//! write their outcome: the condition, the failure counters, the snapshot
//! in `status.history`, the Event. Each returns `Err` only when it changed
//! nothing in Helm's storage (helm-controller returns the error then, and
//! the object is retried with backoff).

use serde_json::{Value, json};

use super::crds;
use super::drift::{self, Drift};
use super::history;
use super::options::CrdPolicy;
use super::reasons as hr;
use super::release::{self, Chart};
use super::spec::Spec;
use super::storage::{self, Failed};
use crate::gitops::helm::{Crds, Helm};
use crate::sim::flux::reconcile::Pass;
use crate::sim::flux::status::Working;
use crate::sim::recorder::EventType;

/// What an action works with.
pub struct Req<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The chart.
    pub chart: &'a Chart,
    /// The composed values.
    pub values: &'a Value,
    /// Their digest.
    pub digest: &'a str,
    /// helm against the cluster.
    pub helm: &'a Helm,
}

impl Req<'_> {
    fn rel(&self) -> String {
        format!("{}/{}", self.spec.namespace, self.spec.release_name)
    }
}

fn bump(w: &mut Working, field: &str) {
    let n = w.get(field).and_then(Value::as_i64).unwrap_or(0) + 1;
    w.set(field, json!(n));
}

/// Counts a failure of the active action's remediation.
fn count_for_remediation(pass: &mut Pass<'_>, req: &Req<'_>) {
    let status = pass.w.obj.get("status").cloned();
    if let Some(r) = req.spec.options.active(status.as_ref()) {
        let counter = r.counter;
        bump(&mut pass.w, counter);
    }
}

/// Install or upgrade (`helm upgrade --install`, then the health of the
/// release's objects unless `disableWait`).
///
/// # Errors
/// The failure message, when no release was stored.
pub async fn release(pass: &mut Pass<'_>, req: &Req<'_>, upgrade: bool) -> Result<(), String> {
    let o = &req.spec.options;
    let (action, policy, disable_wait, timeout) = if upgrade {
        (
            "upgrade",
            o.upgrade_crds,
            o.upgrade_disable_wait,
            o.upgrade_timeout,
        )
    } else {
        (
            "install",
            o.install_crds,
            o.install_disable_wait,
            o.install_timeout,
        )
    };
    pass.w.set("lastAttemptedReleaseAction", json!(action));
    let (ns, name) = (&req.spec.namespace, &req.spec.release_name);
    let before = release::latest(pass.store(), ns, name).map(|s| s.version);
    // Helm creates missing CRDs on a first install by itself; everything
    // else about CRDs is helm-controller's.
    let helm_crds = if !upgrade && policy == CrdPolicy::Create {
        Crds::Create
    } else {
        Crds::Skip
    };
    let ours = if upgrade || policy == CrdPolicy::CreateReplace {
        crds::apply(pass.store(), &req.chart.dir, policy).map(drop)
    } else {
        Ok(())
    };
    let result = match ours {
        Err(e) => Err(e),
        Ok(()) => {
            let applied = release::upgrade(
                req.helm, req.spec, req.chart, req.values, helm_crds, timeout,
            )
            .await;
            match applied {
                Ok(manifest) if !disable_wait => {
                    let targets = release::targets(pass.store(), ns, &manifest);
                    let store = pass.store().clone();
                    pass.released(|busy| async move {
                        release::wait_healthy(&store, &targets, timeout, busy).await
                    })
                    .await
                }
                Ok(_) => Ok(()),
                Err(e) => Err(e),
            }
        }
    };
    pass.w.now = pass.store().now_rfc3339();
    let mut after = release::latest(pass.store(), ns, name);
    if let (Err(e), Some(stored)) = (&result, after.as_mut())
        && Some(stored.version) != before
        && stored.status == "deployed"
    {
        // Helm stored it deployed (no --wait); its objects are not healthy.
        let verb = if upgrade {
            Failed::Upgrade
        } else {
            Failed::Install
        };
        mark_failed(pass.store(), ns, name, stored.version, verb, e).await;
        stored.status = "failed".to_owned();
    }
    let new = after.as_ref().filter(|a| Some(a.version) != before);
    if let Some(stored) = new {
        let now = pass.w.now.clone();
        let first = history::latest(&pass.w)
            .filter(|h| upgrade && history::field(h, "name") == name.as_str())
            .and_then(|h| h.get("firstDeployed").cloned())
            .unwrap_or_else(|| json!(now));
        let status = if result.is_ok() {
            "deployed".to_owned()
        } else {
            "failed".to_owned()
        };
        let c = req.chart;
        let mut snap = json!({"name": name, "namespace": ns, "version": stored.version, "status": status,
            "chartName": c.name, "chartVersion": c.version, "appVersion": c.app_version,
            "configDigest": req.digest, "firstDeployed": first, "lastDeployed": now});
        if let Some(d) = &c.oci_digest {
            snap["ociDigest"] = json!(d);
        }
        history::push(&mut pass.w, snap);
    }
    let (ok_reason, failed_reason) = if upgrade {
        (hr::UPGRADE_SUCCEEDED, hr::UPGRADE_FAILED)
    } else {
        (hr::INSTALL_SUCCEEDED, hr::INSTALL_FAILED)
    };
    match result {
        Ok(()) => {
            let cur = history::latest(&pass.w).unwrap_or_default();
            let msg = format!(
                "Helm {action} succeeded for release {} with chart {}",
                history::full_name(&cur),
                req.chart.id()
            );
            pass.w.mark(hr::RELEASED, "True", ok_reason, &msg);
            if o.test {
                let pending = format!(
                    "Helm release {} with chart {} is awaiting tests",
                    history::full_name(&cur),
                    req.chart.id()
                );
                pass.w
                    .mark(hr::TEST_SUCCESS, "Unknown", hr::AWAITING_TESTS, &pending);
            }
            pass.event(EventType::Normal, ok_reason, &msg);
            Ok(())
        }
        Err(e) => {
            let msg = format!(
                "Helm {action} failed for release {} with chart {}: {e}",
                req.rel(),
                req.chart.id()
            );
            bump(&mut pass.w, "failures");
            pass.w.mark(hr::RELEASED, "False", failed_reason, &msg);
            pass.event(EventType::Warning, failed_reason, &msg);
            if new.is_none() {
                return Err(msg);
            }
            count_for_remediation(pass, req);
            Ok(())
        }
    }
}

/// Marks a revision failed in Helm's storage ([`storage::mark_failed`]);
/// when that cannot be done, the HelmRelease's snapshot still says failed.
async fn mark_failed(
    store: &crate::sim::storage::store::Store,
    ns: &str,
    name: &str,
    version: u32,
    verb: Failed,
    err: &str,
) {
    if let Err(e) = storage::mark_failed(store, ns, name, version, verb, err).await {
        tracing::warn!(release = %format!("{ns}/{name}.v{version}"), error = %e, "could not mark the release failed in Helm's storage");
    }
}

/// The test hooks `helm test` reported (`TEST SUITE:` / `Phase:` lines).
fn test_hooks(stdout: &str, now: &str) -> serde_json::Map<String, Value> {
    let mut hooks = serde_json::Map::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("TEST SUITE:") {
            let name = name.trim();
            current = (name != "None").then(|| name.to_owned());
        } else if let (Some(name), Some(phase)) = (&current, line.strip_prefix("Phase:")) {
            hooks.insert(
                name.clone(),
                json!({"lastStarted": now, "lastCompleted": now, "phase": phase.trim()}),
            );
        }
    }
    hooks
}

/// `helm test` of the latest release, its test Pods run on the simulated
/// clock ([`super::testpods`]).
///
/// # Errors
/// The failure, when no test ran.
pub async fn test(pass: &mut Pass<'_>, req: &Req<'_>) -> Result<(), String> {
    let cur = history::latest(&pass.w).unwrap_or_default();
    let (name, ns) = (&req.spec.release_name, &req.spec.namespace);
    let timeout = req.spec.options.test_timeout;
    let helm = req.helm;
    let store = pass.store().clone();
    let out = pass
        .released(|busy| async move {
            super::testpods::run(helm, &store, name, ns, timeout, busy).await
        })
        .await;
    pass.w.now = pass.store().now_rfc3339();
    let now = pass.w.now.clone();
    let (full, chart) = (history::full_name(&cur), history::chart_id(&cur));
    match out {
        Ok(stdout) => {
            let hooks = test_hooks(&stdout, &now);
            let n = hooks.len();
            history::update_latest(&mut pass.w, |s| s["testHooks"] = Value::Object(hooks));
            let what = match n {
                0 => "no test hooks".to_owned(),
                1 => "1 test hook completed successfully".to_owned(),
                n => format!("{n} test hooks completed successfully"),
            };
            let msg = format!("Helm test succeeded for release {full} with chart {chart}: {what}");
            pass.w
                .mark(hr::TEST_SUCCESS, "True", hr::TEST_SUCCEEDED, &msg);
            pass.event(EventType::Normal, hr::TEST_SUCCEEDED, &msg);
            Ok(())
        }
        Err((err, stdout)) => {
            let mut hooks = test_hooks(&stdout, &now);
            // helm names the failed Pod in its error: `pod <name> failed`.
            if let Some(pod) = err
                .split("pod ")
                .nth(1)
                .and_then(|r| r.split(" failed").next())
                .filter(|_| err.contains(" failed"))
            {
                hooks.insert(
                    pod.trim().to_owned(),
                    json!({"lastStarted": now, "lastCompleted": now, "phase": "Failed"}),
                );
            }
            let msg = format!("Helm test failed for release {full} with chart {chart}: {err}");
            bump(&mut pass.w, "failures");
            pass.w
                .mark(hr::TEST_SUCCESS, "False", hr::TEST_FAILED, &msg);
            pass.event(EventType::Warning, hr::TEST_FAILED, &msg);
            if hooks.is_empty() {
                return Err(msg);
            }
            history::update_latest(&mut pass.w, |s| s["testHooks"] = Value::Object(hooks));
            let status = pass.w.obj.get("status").cloned();
            if !req.spec.options.ignores_tests(status.as_ref()) {
                count_for_remediation(pass, req);
            }
            Ok(())
        }
    }
}

/// Rollback remediation: `helm rollback` to `prev` (the previous
/// successful release), then the health of its objects unless
/// `rollback.disableWait`.
///
/// # Errors
/// The failure, when no release was stored.
pub async fn rollback(pass: &mut Pass<'_>, req: &Req<'_>, prev: &Value) -> Result<(), String> {
    let (ns, name) = (&req.spec.namespace, &req.spec.release_name);
    let o = &req.spec.options;
    let before = release::latest(pass.store(), ns, name).map(|s| s.version);
    let to = u32::try_from(prev["version"].as_u64().unwrap_or(0)).unwrap_or(0);
    let result = match req.helm.rollback(name, ns, to).await {
        Err(e) => Err(release::text(&e)),
        Ok(()) if o.rollback_disable_wait => Ok(()),
        Ok(()) => match req.helm.get_manifest(name, ns).await {
            Err(e) => Err(release::text(&e)),
            Ok(manifest) => {
                let targets = release::targets(pass.store(), ns, &manifest);
                let store = pass.store().clone();
                let timeout = o.rollback_timeout;
                pass.released(|busy| async move {
                    release::wait_healthy(&store, &targets, timeout, busy).await
                })
                .await
            }
        },
    };
    pass.w.now = pass.store().now_rfc3339();
    let after = release::latest(pass.store(), ns, name);
    let new = after.as_ref().filter(|a| Some(a.version) != before);
    if let (Err(e), Some(stored)) = (&result, new)
        && stored.status == "deployed"
    {
        mark_failed(pass.store(), ns, name, stored.version, Failed::Rollback, e).await;
    }
    if let Some(stored) = new {
        let now = pass.w.now.clone();
        let mut snap = prev.clone();
        if let Some(m) = snap.as_object_mut() {
            m.remove("testHooks");
        }
        snap["version"] = json!(stored.version);
        snap["status"] = json!(if result.is_ok() { "deployed" } else { "failed" });
        snap["lastDeployed"] = json!(now);
        history::push(&mut pass.w, snap);
    }
    let (full, chart) = (history::full_name(prev), history::chart_id(prev));
    match result {
        Ok(()) => {
            let msg =
                format!("Helm rollback to previous release {full} with chart {chart} succeeded");
            pass.w
                .mark(hr::REMEDIATED, "True", hr::ROLLBACK_SUCCEEDED, &msg);
            pass.event(EventType::Normal, hr::ROLLBACK_SUCCEEDED, &msg);
            Ok(())
        }
        Err(e) => {
            let msg =
                format!("Helm rollback to previous release {full} with chart {chart} failed: {e}");
            bump(&mut pass.w, "failures");
            pass.w
                .mark(hr::REMEDIATED, "False", hr::ROLLBACK_FAILED, &msg);
            pass.event(EventType::Warning, hr::ROLLBACK_FAILED, &msg);
            if new.is_none() {
                return Err(msg);
            }
            Ok(())
        }
    }
}

/// Uninstall remediation: `helm uninstall` of the latest release.
///
/// # Errors
/// The failure.
pub async fn uninstall(pass: &mut Pass<'_>, req: &Req<'_>) -> Result<(), String> {
    let cur = history::latest(&pass.w).unwrap_or_default();
    let (full, chart) = (history::full_name(&cur), history::chart_id(&cur));
    let (ns, name) = (&req.spec.namespace, &req.spec.release_name);
    let result = req.helm.uninstall(name, ns, false).await;
    pass.w.now = pass.store().now_rfc3339();
    match result {
        Ok(()) => {
            history::update_latest(&mut pass.w, |s| s["status"] = json!("uninstalled"));
            let msg = format!(
                "Helm uninstall remediation for release {full} with chart {chart} succeeded"
            );
            pass.w
                .mark(hr::REMEDIATED, "True", hr::UNINSTALL_SUCCEEDED, &msg);
            pass.event(EventType::Normal, hr::UNINSTALL_SUCCEEDED, &msg);
            Ok(())
        }
        Err(e) => {
            let msg = format!(
                "Helm uninstall remediation for release {full} with chart {chart} failed: {}",
                release::text(&e)
            );
            bump(&mut pass.w, "failures");
            pass.w
                .mark(hr::REMEDIATED, "False", hr::UNINSTALL_FAILED, &msg);
            pass.event(EventType::Warning, hr::UNINSTALL_FAILED, &msg);
            Err(msg)
        }
    }
}

/// Corrects drift by server-side apply; an Event says what was done.
pub fn correct_drift(pass: &mut Pass<'_>, drifts: &[Drift]) {
    let cur = history::latest(&pass.w).unwrap_or_default();
    let full = history::full_name(&cur);
    let (done, errors) = drift::correct(pass.store(), drifts);
    pass.w.now = pass.store().now_rfc3339();
    if errors.is_empty() {
        let msg = format!(
            "Cluster state of release {full} has been corrected:\n{}",
            done.join("\n")
        );
        pass.event(EventType::Normal, "DriftCorrected", &msg);
    } else {
        let partially = if done.is_empty() { "" } else { "partially " };
        let mut msg = format!(
            "Failed to {partially}correct cluster state of release {full}:\n{}",
            errors.join("\n")
        );
        if !done.is_empty() {
            msg.push_str(&format!("\n\nSuccessful corrections:\n{}", done.join("\n")));
        }
        pass.event(EventType::Warning, "DriftCorrectionFailed", &msg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_hooks_are_read_from_helms_report() {
        let out = "NAME: web\nSTATUS: deployed\nTEST SUITE:     web-hello-test\nLast Started:   Mon\nLast Completed: Mon\nPhase:          Succeeded\n";
        let hooks = test_hooks(out, "t");
        assert_eq!(hooks.len(), 1);
        assert_eq!(hooks["web-hello-test"]["phase"], "Succeeded");
        assert!(test_hooks("TEST SUITE: None\n", "t").is_empty());
        assert_eq!(hr::of("RollbackSucceeded"), hr::ROLLBACK_SUCCEEDED);
        assert_eq!(hr::of("Whatever"), hr::RECONCILE_ERROR);
    }
}
