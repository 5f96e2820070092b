//! Deployment status: counters from its ReplicaSets and the `Available`
//! and `Progressing` conditions, following upstream's `syncRolloutStatus`:
//! progress (more updated, ready or available replicas, fewer old ones)
//! refreshes `Progressing`'s `lastUpdateTime`; no progress for
//! `progressDeadlineSeconds` (default 600) since then turns it `False` with
//! `ProgressDeadlineExceeded`; a complete rollout sets
//! `NewReplicaSetAvailable`. `lastTransitionTime` changes only when a
//! condition's status flips.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::pods;
use super::rollout;

/// Reasons of the Progressing condition.
pub(crate) const NEW_RS_AVAILABLE: &str = "NewReplicaSetAvailable";
pub(crate) const NEW_RS_CREATED: &str = "NewReplicaSetCreated";
pub(crate) const FOUND_NEW_RS: &str = "FoundNewReplicaSet";
pub(crate) const RS_UPDATED: &str = "ReplicaSetUpdated";
pub(crate) const TIMED_OUT: &str = "ProgressDeadlineExceeded";
pub(crate) const PAUSED: &str = "DeploymentPaused";
pub(crate) const RESUMED: &str = "DeploymentResumed";

/// The progress deadline, if any (`progressDeadlineSeconds`, default 600;
/// the maximum int32 disables it, as upstream).
pub(crate) fn deadline(d: &Value) -> Option<i64> {
    match pods::int_at(d, "/spec/progressDeadlineSeconds") {
        None => Some(600),
        Some(s) if s >= i64::from(i32::MAX) => None,
        Some(s) => Some(s.max(0)),
    }
}

/// A Deployment condition (with `lastUpdateTime`).
pub(crate) fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: &str,
    now: &str,
) -> Value {
    json!({"type": type_, "status": status, "lastUpdateTime": now, "lastTransitionTime": now,
           "reason": reason, "message": message})
}

/// Sets a condition as upstream's `SetDeploymentCondition`: nothing changes
/// when status and reason are the same; `lastTransitionTime` is kept when
/// only the reason changes.
pub(crate) fn set(conds: &mut Vec<Value>, mut c: Value) {
    let type_ = pods::str_at(&c, "/type").to_owned();
    if let Some(old) = conds.iter().find(|o| pods::str_at(o, "/type") == type_) {
        if pods::str_at(old, "/status") == pods::str_at(&c, "/status")
            && pods::str_at(old, "/reason") == pods::str_at(&c, "/reason")
        {
            return;
        }
        if pods::str_at(old, "/status") == pods::str_at(&c, "/status")
            && let Some(t) = old.get("lastTransitionTime")
        {
            c["lastTransitionTime"] = t.clone();
        }
    }
    conds.retain(|o| pods::str_at(o, "/type") != type_);
    conds.push(c);
}

/// The counters of a Deployment's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Counts {
    pub(crate) replicas: i64,
    pub(crate) updated: i64,
    pub(crate) ready: i64,
    pub(crate) available: i64,
    pub(crate) unavailable: i64,
}

impl Counts {
    /// From the ReplicaSets (`all` includes `new`).
    pub(crate) fn of(all: &[&Value], new: Option<&Value>) -> Counts {
        let sum = |f: &str| {
            all.iter()
                .map(|r| pods::int_at(r, f).unwrap_or(0))
                .sum::<i64>()
        };
        let spec_total: i64 = all
            .iter()
            .map(|r| pods::int_at(r, "/spec/replicas").unwrap_or(1))
            .sum();
        let available = sum("/status/availableReplicas");
        Counts {
            replicas: sum("/status/replicas"),
            updated: new.map_or(0, |n| pods::int_at(n, "/status/replicas").unwrap_or(0)),
            ready: sum("/status/readyReplicas"),
            available,
            unavailable: (spec_total - available).max(0),
        }
    }

    fn from_status(d: &Value) -> Counts {
        let g = |f: &str| pods::int_at(d, &format!("/status/{f}")).unwrap_or(0);
        Counts {
            replicas: g("replicas"),
            updated: g("updatedReplicas"),
            ready: g("readyReplicas"),
            available: g("availableReplicas"),
            unavailable: g("unavailableReplicas"),
        }
    }
}

/// The new status of Deployment `d`, and when to look again for a
/// progress deadline (None when not waiting for one).
pub(crate) fn compute(
    d: &Value,
    counts: Counts,
    new_rs: Option<&str>,
    now: Timestamp,
    now_text: &str,
) -> (Value, Option<Timestamp>) {
    let desired = pods::int_at(d, "/spec/replicas").unwrap_or(1);
    let generation = pods::int_at(d, "/metadata/generation").unwrap_or(1);
    let old = Counts::from_status(d);
    let mut conds: Vec<Value> = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if counts.available >= desired - rollout::max_unavailable(d, desired) {
        set(
            &mut conds,
            condition(
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                now_text,
            ),
        );
    } else {
        set(
            &mut conds,
            condition(
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                now_text,
            ),
        );
    }
    let mut requeue = None;
    let deadline = deadline(d);
    let paused = d.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
    let current = conds
        .iter()
        .find(|c| pods::str_at(c, "/type") == "Progressing")
        .cloned();
    let reason = current
        .as_ref()
        .map(|c| pods::str_at(c, "/reason").to_owned());
    let subject = |verb: &str| match new_rs {
        Some(n) => format!("ReplicaSet \"{n}\" {verb}"),
        None => format!("Deployment \"{}\" {verb}", pods::name(d)),
    };
    match deadline {
        None => conds.retain(|c| pods::str_at(c, "/type") != "Progressing"),
        Some(_) if paused => set(
            &mut conds,
            condition(
                "Progressing",
                "Unknown",
                PAUSED,
                "Deployment is paused",
                now_text,
            ),
        ),
        Some(secs) => {
            let complete_before =
                counts.replicas == counts.updated && reason.as_deref() == Some(NEW_RS_AVAILABLE);
            if reason.as_deref() == Some(PAUSED) {
                set(
                    &mut conds,
                    condition(
                        "Progressing",
                        "Unknown",
                        RESUMED,
                        "Deployment is resumed",
                        now_text,
                    ),
                );
            }
            let complete = counts.updated == desired
                && counts.replicas == desired
                && counts.available == desired;
            let progressing = counts.updated > old.updated
                || (counts.replicas - counts.updated) < (old.replicas - old.updated)
                || counts.ready > old.ready
                || counts.available > old.available;
            if complete_before {
            } else if complete {
                set(
                    &mut conds,
                    condition(
                        "Progressing",
                        "True",
                        NEW_RS_AVAILABLE,
                        &subject("has successfully progressed."),
                        now_text,
                    ),
                );
            } else if progressing {
                let mut c = condition(
                    "Progressing",
                    "True",
                    RS_UPDATED,
                    &subject("is progressing."),
                    now_text,
                );
                if let Some(cur) = &current
                    && pods::str_at(cur, "/status") == "True"
                    && let Some(t) = cur.get("lastTransitionTime")
                {
                    c["lastTransitionTime"] = t.clone();
                }
                conds.retain(|x| pods::str_at(x, "/type") != "Progressing");
                conds.push(c);
            } else if let Some(cur) = &current
                && pods::str_at(cur, "/reason") != TIMED_OUT
                && pods::str_at(cur, "/reason") != NEW_RS_AVAILABLE
            {
                let from: Option<Timestamp> = pods::str_at(cur, "/lastUpdateTime").parse().ok();
                if let Some(from) = from {
                    let due = from
                        .checked_add(jiff::SignedDuration::from_secs(secs))
                        .unwrap_or(Timestamp::MAX);
                    if due < now {
                        set(
                            &mut conds,
                            condition(
                                "Progressing",
                                "False",
                                TIMED_OUT,
                                &subject("has timed out progressing."),
                                now_text,
                            ),
                        );
                    } else {
                        // Upstream compares with Before: look just after.
                        requeue = due.checked_add(jiff::SignedDuration::from_millis(1)).ok();
                    }
                }
            }
        }
    }
    // Keep the usual order: Available, then Progressing.
    conds.sort_by_key(|c| pods::str_at(c, "/type") != "Available");
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": counts.replicas, "updatedReplicas": counts.updated,
        "readyReplicas": counts.ready, "availableReplicas": counts.available,
        "unavailableReplicas": counts.unavailable,
        "conditions": conds,
    });
    if let Some(c) = d.pointer("/status/collisionCount") {
        status["collisionCount"] = c.clone();
    }
    let status = super::super::replicaset::strip_zeros(
        status,
        &[
            "replicas",
            "updatedReplicas",
            "readyReplicas",
            "availableReplicas",
            "unavailableReplicas",
        ],
    );
    (status, requeue)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn dep(conds: Value, status: Value) -> Value {
        let mut d = json!({"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3, "progressDeadlineSeconds": 30}, "status": status});
        d["status"]["conditions"] = conds;
        d
    }

    fn cond<'a>(s: &'a Value, type_: &str) -> &'a Value {
        s["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["type"] == type_)
            .unwrap()
    }

    #[test]
    fn complete_rollout_is_new_replicaset_available() {
        let d = dep(
            json!([condition(
                "Progressing",
                "True",
                RS_UPDATED,
                "",
                "2026-01-01T00:00:00Z"
            )]),
            json!({}),
        );
        let all = Counts {
            replicas: 3,
            updated: 3,
            ready: 3,
            available: 3,
            unavailable: 0,
        };
        let (s, requeue) = compute(
            &d,
            all,
            Some("web-abc"),
            t("2026-01-01T00:00:10Z"),
            "2026-01-01T00:00:10Z",
        );
        assert_eq!(cond(&s, "Progressing")["reason"], NEW_RS_AVAILABLE);
        assert_eq!(
            cond(&s, "Progressing")["lastTransitionTime"],
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(cond(&s, "Available")["status"], "True");
        assert_eq!(s["observedGeneration"], 2);
        assert!(requeue.is_none());
    }

    #[test]
    fn no_progress_past_the_deadline_times_out() {
        let d = dep(
            json!([condition(
                "Progressing",
                "True",
                RS_UPDATED,
                "",
                "2026-01-01T00:00:00Z"
            )]),
            json!({"replicas": 3, "updatedReplicas": 3, "unavailableReplicas": 3}),
        );
        let stuck = Counts {
            replicas: 3,
            updated: 3,
            ready: 0,
            available: 0,
            unavailable: 3,
        };
        let (s, requeue) = compute(
            &d,
            stuck,
            Some("web-abc"),
            t("2026-01-01T00:00:20Z"),
            "2026-01-01T00:00:20Z",
        );
        assert_eq!(cond(&s, "Progressing")["status"], "True");
        assert_eq!(requeue, Some(t("2026-01-01T00:00:30.001Z")));
        let (s, _) = compute(
            &d,
            stuck,
            Some("web-abc"),
            t("2026-01-01T00:00:31Z"),
            "2026-01-01T00:00:31Z",
        );
        let p = cond(&s, "Progressing");
        assert_eq!(
            (p["status"].as_str(), p["reason"].as_str()),
            (Some("False"), Some(TIMED_OUT))
        );
        assert_eq!(
            p["message"],
            "ReplicaSet \"web-abc\" has timed out progressing."
        );
        assert_eq!(p["lastTransitionTime"], "2026-01-01T00:00:31Z");
        assert_eq!(
            cond(&s, "Available")["reason"],
            "MinimumReplicasUnavailable"
        );
    }

    #[test]
    fn set_keeps_identical_conditions() {
        let mut conds = vec![condition("Available", "True", "A", "m", "t1")];
        set(
            &mut conds,
            condition("Available", "True", "A", "other", "t2"),
        );
        assert_eq!(conds[0]["lastUpdateTime"], "t1");
        set(&mut conds, condition("Available", "True", "B", "m", "t3"));
        assert_eq!(conds[0]["lastTransitionTime"], "t1");
        assert_eq!(conds[0]["lastUpdateTime"], "t3");
    }
}
