//! helm-controller's atomic release (`internal/reconcile/atomic_release.go`
//! and `state.go`), in one pass: determine the state of the release from
//! Helm's storage and `status.history`, pick the next action for it, run
//! it, and again — each kind of action at most once per pass, stopping
//! after a remediation — until nothing is left to do; then summarize
//! `Ready` out of `Remediated`, `TestSuccess` and `Released`.
//!
//! | state | next action |
//! | --- | --- |
//! | absent (no release, or uninstalled) | install, unless the install retries are exhausted |
//! | unmanaged (no or another snapshot) | upgrade |
//! | out of sync (other chart version or values) | upgrade, unless the upgrade retries are exhausted |
//! | failed (the release, or its tests when they count) | upgrade when the failure is not counted (conditions changed); else, retries exhausted and the last failure not to be remediated → `Stalled` `RetriesExceeded`; else the remediation: rollback to the previous successful release (`MissingRollbackTarget` when it is gone) or uninstall |
//! | untested (`test.enable`) | test |
//! | drifted (`driftDetection`) | correct it (`enabled`), or only report it (`warn`) |
//! | in sync | none |
//!
//! After a remediation the pass ends: with retries left, again after
//! controller-runtime's backoff (helm-controller's `ErrMustRequeue`);
//! exhausted, `Stalled` `RetriesExceeded` and never again until the
//! chart version or the values change.

use serde_json::Value;

use super::actions::{self, Req};
use super::drift::{self, Drift};
use super::history;
use super::options::{DriftMode, OnFailure, Strategy};
use super::reasons as hr;
use super::release;
use super::summary::summarize;
use crate::flux::duration;
use crate::sim::flux::reconcile::{Failure, Pass, Ready, Reconciled};
use crate::sim::flux::runner::Requeue;
use crate::sim::flux::status::{reasons, types};
use crate::sim::recorder::EventType;

/// The state of a release.
#[derive(Debug)]
enum State {
    Absent,
    Unmanaged,
    OutOfSync,
    Failed,
    Untested,
    Drifted(Vec<Drift>),
    InSync,
}

/// The next action.
#[derive(Debug)]
enum Next {
    Install,
    Upgrade,
    Test,
    Rollback(Value),
    Uninstall,
    CorrectDrift(Vec<Drift>),
}

/// What kind of action (each runs at most once per pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Release,
    Test,
    Remediate,
    DriftCorrection,
}

impl Next {
    fn kind(&self) -> Kind {
        match self {
            Next::Install | Next::Upgrade => Kind::Release,
            Next::Test => Kind::Test,
            Next::Rollback(_) | Next::Uninstall => Kind::Remediate,
            Next::CorrectDrift(_) => Kind::DriftCorrection,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Next::Install => "install",
            Next::Upgrade => "upgrade",
            Next::Test => "test",
            Next::Rollback(_) => "rollback",
            Next::Uninstall => "uninstall",
            Next::CorrectDrift(_) => "correct cluster drift",
        }
    }
}

/// Why no action can be picked.
enum Stop {
    Exhausted,
    MissingRollbackTarget,
}

fn status(pass: &Pass<'_>) -> Option<Value> {
    pass.w.obj.get("status").cloned()
}

async fn determine(pass: &mut Pass<'_>, req: &Req<'_>) -> State {
    let (ns, name) = (&req.spec.namespace, &req.spec.release_name);
    let Some(stored) = release::latest(pass.store(), ns, name) else {
        return State::Absent;
    };
    if stored.status == "uninstalled" {
        return State::Absent;
    }
    let Some(cur) = history::latest(&pass.w) else {
        return State::Unmanaged;
    };
    let same = history::field(&cur, "name") == name.as_str()
        && history::field(&cur, "namespace") == ns.as_str()
        && cur["version"].as_u64() == Some(u64::from(stored.version));
    if !same {
        return State::Unmanaged;
    }
    if stored.status == "failed" || history::field(&cur, "status") == "failed" {
        return State::Failed;
    }
    if stored.status != "deployed" {
        return State::Unmanaged;
    }
    let in_sync = history::field(&cur, "chartName") == req.chart.name
        && history::field(&cur, "chartVersion") == req.chart.version
        && history::field(&cur, "configDigest") == req.digest;
    if !in_sync {
        return State::OutOfSync;
    }
    let o = &req.spec.options;
    if o.test {
        if !history::tested(&cur) {
            return State::Untested;
        }
        let st = status(pass);
        if o.active(st.as_ref()).is_some()
            && !o.ignores_tests(st.as_ref())
            && history::test_failed(&cur)
        {
            return State::Failed;
        }
    }
    if o.drift == DriftMode::Disabled {
        pass.w.clear(hr::DRIFTED);
        return State::InSync;
    }
    let manifest = match req.helm.get_manifest(name, ns).await {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %release::text(&e), "helm get manifest failed; drift not checked");
            return State::InSync;
        }
    };
    let drifts = drift::detect(pass.store(), ns, name, &manifest, &o.drift_ignore);
    if drifts.is_empty() {
        pass.w.mark(
            hr::DRIFTED,
            "False",
            hr::NO_DRIFT_DETECTED,
            "No drift detected against the cluster state",
        );
        return State::InSync;
    }
    let summary: Vec<String> = drifts.iter().map(Drift::summary).collect();
    let msg = format!(
        "Cluster state of release {} has drifted from the desired state:\n{}",
        history::full_name(&cur),
        summary.join("\n")
    );
    pass.w.mark(hr::DRIFTED, "True", hr::DRIFT_DETECTED, &msg);
    pass.event(EventType::Warning, hr::DRIFT_DETECTED, &msg);
    State::Drifted(drifts)
}

/// A Remediated condition that a later release made stale gives way to
/// `Released=True UpgradeSucceeded` (the release matches the spec again).
fn replace_remediated(pass: &mut Pass<'_>) {
    if pass.w.condition(hr::REMEDIATED) != Some("True") {
        return;
    }
    let cur = history::latest(&pass.w).unwrap_or_default();
    let msg = format!(
        "Helm upgrade succeeded for release {} with chart {}",
        history::full_name(&cur),
        history::chart_id(&cur)
    );
    pass.w.clear(hr::REMEDIATED);
    pass.w
        .mark(hr::RELEASED, "True", hr::UPGRADE_SUCCEEDED, &msg);
}

fn next_action(pass: &mut Pass<'_>, req: &Req<'_>, state: State) -> Result<Option<Next>, Stop> {
    let o = &req.spec.options;
    let st = status(pass);
    let st = st.as_ref();
    match state {
        State::InSync => {
            let mut h = history::all(&pass.w);
            history::truncate(&mut h, o.ignores_tests(st));
            history::set(&mut pass.w, h);
            replace_remediated(pass);
            Ok(None)
        }
        State::Absent
            if o.install_strategy == OnFailure::Remediate
                && o.install_remediation.exhausted(st) =>
        {
            Err(Stop::Exhausted)
        }
        State::Absent => Ok(Some(Next::Install)),
        State::Unmanaged => {
            history::set(&mut pass.w, Vec::new());
            Ok(Some(Next::Upgrade))
        }
        State::OutOfSync
            if o.upgrade_strategy == OnFailure::Remediate
                && o.upgrade_remediation.exhausted(st) =>
        {
            Err(Stop::Exhausted)
        }
        State::OutOfSync => Ok(Some(Next::Upgrade)),
        State::Drifted(d) if o.drift == DriftMode::Enabled => Ok(Some(Next::CorrectDrift(d))),
        State::Drifted(_) => Ok(None),
        State::Untested => {
            replace_remediated(pass);
            Ok(Some(Next::Test))
        }
        // RetryOnFailure never remediates: it releases again (the pass
        // that failed ends first, see `release`).
        State::Failed if matches!(o.active_strategy(st), OnFailure::Retry(_)) => {
            Ok(Some(Next::Upgrade))
        }
        State::Failed => {
            let Some(r) = o.active(st) else {
                return Ok(Some(Next::Upgrade));
            };
            if r.failures(st) <= 0 {
                return Ok(Some(Next::Upgrade));
            }
            if r.exhausted(st) && !r.remediate_last_failure {
                return Err(Stop::Exhausted);
            }
            let ignore = r.ignores_tests(o.test_ignore_failures);
            let mut h = history::all(&pass.w);
            history::truncate(&mut h, ignore);
            history::set(&mut pass.w, h.clone());
            match r.strategy {
                Strategy::Uninstall => Ok(Some(Next::Uninstall)),
                Strategy::Rollback => {
                    let (ns, name) = (&req.spec.namespace, &req.spec.release_name);
                    match history::previous(&h, ignore) {
                        Some(prev)
                            if release::stored(
                                pass.store(),
                                ns,
                                name,
                                prev["version"].as_u64().unwrap_or(0),
                            ) =>
                        {
                            Ok(Some(Next::Rollback(prev.clone())))
                        }
                        _ => Err(Stop::MissingRollbackTarget),
                    }
                }
            }
        }
    }
}

fn ready_now(pass: &Pass<'_>) -> (String, String, String) {
    let c = pass
        .w
        .obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|l| l.iter().find(|c| c["type"] == types::READY).cloned())
        .unwrap_or_default();
    let f = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
    (f("status"), f("reason"), f("message"))
}

/// The end of a pass, from `Ready` as summarized: `True` → Ready, again
/// at `interval`; otherwise a failure with the same reason and message,
/// again after `requeue`.
fn end(pass: &Pass<'_>, req: &Req<'_>, requeue: Requeue) -> Reconciled {
    let (status, reason, message) = ready_now(pass);
    if status == "True" {
        return Ready::new(hr::of(&reason), message, Requeue::After(req.spec.interval)).done();
    }
    Err(Failure::new(hr::of(&reason), message, requeue).quiet())
}

fn stall(pass: &mut Pass<'_>, req: &Req<'_>, stop: &Stop) -> Failure {
    let st = status(pass);
    let (reason, msg) = match stop {
        Stop::Exhausted => {
            let action = st
                .as_ref()
                .and_then(|s| s.get("lastAttemptedReleaseAction"))
                .and_then(Value::as_str)
                .unwrap_or("install")
                .to_owned();
            let count = req
                .spec
                .options
                .active(st.as_ref())
                .map_or(0, |r| r.failures(st.as_ref()));
            (
                hr::RETRIES_EXCEEDED,
                format!("Failed to {action} after {count} attempt(s)"),
            )
        }
        Stop::MissingRollbackTarget => (
            hr::MISSING_ROLLBACK_TARGET,
            "Failed to perform remediation: missing target release for rollback: cannot remediate failed release".to_owned(),
        ),
    };
    pass.w.mark(types::STALLED, "True", reason, &msg);
    let (_, ready_reason, ready_message) = ready_now(pass);
    Failure::new(hr::of(&ready_reason), ready_message, Requeue::Never).quiet()
}

/// The action loop (see the module docs).
pub async fn release(pass: &mut Pass<'_>, req: &Req<'_>) -> Reconciled {
    let o = &req.spec.options;
    let summary = |pass: &mut Pass<'_>| summarize(pass, o.test, o.test_ignore_failures);
    let mut done: Vec<Kind> = Vec::new();
    loop {
        let state = determine(pass, req).await;
        let next = match next_action(pass, req, state) {
            Ok(n) => n,
            Err(stop) => {
                summary(pass);
                return Err(stall(pass, req, &stop));
            }
        };
        let Some(next) = next else {
            pass.w.clear(types::RECONCILING);
            summary(pass);
            return end(pass, req, Requeue::After(req.spec.interval));
        };
        let st = status(pass);
        let retries_left = o
            .active(st.as_ref())
            .is_none_or(|r| !r.exhausted(st.as_ref()));
        if done.contains(&next.kind()) {
            summary(pass);
            if let OnFailure::Retry(after) = o.active_strategy(st.as_ref()) {
                return retry_after(pass, req, after);
            }
            if retries_left {
                return must_requeue(pass, req);
            }
            pass.w.clear(types::RECONCILING);
            return end(pass, req, Requeue::Never);
        }
        let timeout = match &next {
            Next::Install => o.install_timeout,
            Next::Upgrade => o.upgrade_timeout,
            Next::Test => o.test_timeout,
            Next::Rollback(_) => o.rollback_timeout,
            Next::Uninstall => o.uninstall_timeout,
            Next::CorrectDrift(_) => req.spec.timeout,
        };
        let running = format!(
            "Running '{}' action with timeout of {}",
            next.name(),
            duration::format(timeout)
        );
        pass.w
            .mark(types::RECONCILING, "True", reasons::PROGRESSING, &running);
        if next.kind() == Kind::Release {
            pass.w
                .mark(types::READY, "Unknown", reasons::PROGRESSING, &running);
        }
        pass.write();
        let kind = next.kind();
        let result = match next {
            Next::Install => actions::release(pass, req, false).await,
            Next::Upgrade => actions::release(pass, req, true).await,
            Next::Test => actions::test(pass, req).await,
            Next::Rollback(prev) => actions::rollback(pass, req, &prev).await,
            Next::Uninstall => actions::uninstall(pass, req).await,
            Next::CorrectDrift(d) => {
                actions::correct_drift(pass, &d);
                Ok(())
            }
        };
        summary(pass);
        if let Err(e) = result {
            tracing::debug!(helmrelease = %format!("{}/{}", pass.namespace(), pass.name()), error = %e, "action failed");
            let (status, reason, message) = ready_now(pass);
            let reason = if status == "True" {
                hr::RECONCILE_ERROR
            } else {
                hr::of(&reason)
            };
            let message = if status == "True" { e } else { message };
            return Err(Failure::new(reason, message, Requeue::Backoff).quiet());
        }
        if kind == Kind::Remediate {
            let st = status(pass);
            let exhausted = o
                .active(st.as_ref())
                .is_some_and(|r| r.exhausted(st.as_ref()));
            if !exhausted {
                return must_requeue(pass, req);
            }
            return Err(stall(pass, req, &Stop::Exhausted));
        }
        done.push(kind);
        pass.write();
    }
}

/// helm-controller's `ErrRetryAfterInterval` (`RetryOnFailure`): the
/// failure stands, `Reconciling` `ProgressingWithRetry` "retrying after
/// <retryInterval>"; again after `retryInterval`.
fn retry_after(pass: &mut Pass<'_>, req: &Req<'_>, after: std::time::Duration) -> Reconciled {
    let msg = format!("retrying after {}", duration::format(after));
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING_WITH_RETRY,
        &msg,
    );
    end(pass, req, Requeue::After(after))
}

/// helm-controller's `ErrMustRequeue`: `Reconciling` `ProgressingWithRetry`
/// with Ready's message; again after controller-runtime's backoff.
fn must_requeue(pass: &mut Pass<'_>, req: &Req<'_>) -> Reconciled {
    let (status, _, message) = ready_now(pass);
    pass.w.mark(
        types::RECONCILING,
        "True",
        reasons::PROGRESSING_WITH_RETRY,
        &message,
    );
    if status == "True" {
        // Nothing failed (a drift correction that did not converge): the
        // object stays Ready and is looked at again soon.
        let (_, reason, message) = ready_now(pass);
        return Ready::new(hr::of(&reason), message, Requeue::Backoff).done();
    }
    end(pass, req, Requeue::Backoff)
}
