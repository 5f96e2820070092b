//! The ReplicaSet controller: keeps `spec.replicas` active pods matching the
//! template, and reports replicas, ready, available (ready for
//! `minReadySeconds`) and fully-labeled counts with `observedGeneration`.
//!
//! Excess pods are deleted least-valuable first, as upstream ranks them:
//! unscheduled before scheduled, pending before running, not ready before
//! ready, newest first.

use crate::sim::recorder::{About, EventType};
use std::sync::Arc;

use serde_json::{Value, json};

use super::agenda::Ctl;
use super::engine::Engine;
use super::pods;
use crate::sim::storage::store::{DeleteOptions, Gvr, WriteOptions};

/// The field manager of kube-controller-manager writes.
pub(crate) const KCM: &str = "kube-controller-manager";

/// Pods a controller creates or deletes per reconcile at most (upstream's
/// `burstReplicas`); the rest follow on the next tick.
pub(crate) const BURST: usize = 500;

/// The ReplicaSet resource.
pub(crate) fn gvr() -> Gvr {
    Gvr::new("apps", "v1", "replicasets")
}

/// The pods controlled by the object with `uid`.
pub(crate) fn owned_pods(e: &Engine, uid: &str) -> Vec<Arc<Value>> {
    let mut out: Vec<Arc<Value>> = e
        .store
        .dependents(uid)
        .into_iter()
        .filter(|r| r.gvr.group.is_empty() && r.gvr.resource == "pods")
        .filter_map(|r| e.store.get(&r).ok())
        .filter(|p| pods::controlled_by(p, uid))
        .collect();
    out.sort_by(|a, b| pods::name(a).cmp(pods::name(b)));
    out
}

/// Deletion rank: lower goes first.
fn rank(p: &Value) -> (u8, u8, u8, std::cmp::Reverse<String>, String) {
    let scheduled = u8::from(!pods::str_at(p, "/spec/nodeName").is_empty());
    let phase = match pods::str_at(p, "/status/phase") {
        "Pending" | "" => 0,
        "Running" => 2,
        _ => 1,
    };
    let ready = u8::from(pods::is_ready(p));
    (
        scheduled,
        phase,
        ready,
        std::cmp::Reverse(pods::str_at(p, "/metadata/creationTimestamp").to_owned()),
        pods::name(p).to_owned(),
    )
}

/// Reconciles one ReplicaSet.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let r = pods::ref_of(gvr(), key);
    let Ok(rs) = e.store.get(&r) else { return };
    if pods::deleting(&rs) || !rs.pointer("/spec/template").is_some_and(Value::is_object) {
        return;
    }
    let uid = pods::uid(&rs).to_owned();
    let ns = pods::namespace(&rs).to_owned();
    let all = owned_pods(e, &uid);
    let mut active: Vec<Arc<Value>> = all.iter().filter(|p| pods::is_active(p)).cloned().collect();
    let want =
        usize::try_from(pods::int_at(&rs, "/spec/replicas").unwrap_or(1).max(0)).unwrap_or(0);
    if active.len() < want {
        let template = rs
            .pointer("/spec/template")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let owner = pods::owner_ref(&rs, "apps/v1", "ReplicaSet");
        if want - active.len() > BURST {
            e.enqueue(Ctl::ReplicaSet, key);
        }
        for _ in active.len()..want.min(active.len() + BURST) {
            let name = e.pod_name(&format!("rs/{key}"), &ns, pods::name(&rs));
            let pod = pods::from_template(
                &template,
                &ns,
                &name,
                owner.clone(),
                &[],
                toleration_secs(e),
            );
            match e
                .store
                .create(&pods::gvr(), Some(&ns), pod, &WriteOptions::manager(KCM))
            {
                Ok(p) => {
                    e.events.replicaset.record(
                        About::object(&rs),
                        EventType::Normal,
                        "SuccessfulCreate",
                        &format!("Created pod: {}", pods::name(&p)),
                    );
                    active.push(p);
                }
                Err(err) => {
                    e.events.replicaset.record(
                        About::object(&rs),
                        EventType::Warning,
                        "FailedCreate",
                        &format!("Error creating: {}", err.message),
                    );
                    tracing::debug!(rs = key, error = %err, "sim: could not create pod");
                    break;
                }
            }
        }
    } else if active.len() > want {
        let mut victims = active.clone();
        victims.sort_by_key(|p| rank(p));
        for p in victims.iter().take(active.len() - want) {
            let pr = pods::ref_of(pods::gvr(), &pods::key_of(p));
            if e.store.delete(&pr, &DeleteOptions::default()).is_ok() {
                e.events.replicaset.record(
                    About::object(&rs),
                    EventType::Normal,
                    "SuccessfulDelete",
                    &format!("Deleted pod: {}", pods::name(p)),
                );
            }
        }
        let gone: Vec<String> = victims
            .iter()
            .take(active.len() - want)
            .map(|p| pods::name(p).to_owned())
            .collect();
        active.retain(|p| !gone.iter().any(|g| g == pods::name(p)));
    }
    write_status(e, key, &rs, &active);
}

/// The DefaultTolerationSeconds of the profile, in seconds.
pub(crate) fn toleration_secs(e: &Engine) -> i64 {
    i64::try_from(e.profile.unreachable_toleration.as_secs()).unwrap_or(300)
}

fn write_status(e: &mut Engine, key: &str, rs: &Value, active: &[Arc<Value>]) {
    let now = e.now();
    let min_ready = pods::int_at(rs, "/spec/minReadySeconds").unwrap_or(0);
    let labels = rs.pointer("/spec/template/metadata/labels");
    let ready = active.iter().filter(|p| pods::is_ready(p)).count();
    let available = active
        .iter()
        .filter(|p| pods::is_available(p, min_ready, now))
        .count();
    let fully_labeled = active
        .iter()
        .filter(|p| {
            labels.and_then(Value::as_object).is_none_or(|l| {
                l.iter()
                    .all(|(k, v)| p.pointer("/metadata/labels").and_then(|x| x.get(k)) == Some(v))
            })
        })
        .count();
    // Pods ready but not yet available become available later: look again then.
    if let Some(next) = active
        .iter()
        .filter_map(|p| pods::available_at(p, min_ready))
        .filter(|t| *t > now)
        .min()
    {
        e.requeue_at(Ctl::ReplicaSet, key, next);
    }
    let generation = pods::int_at(rs, "/metadata/generation").unwrap_or(1);
    let status = json!({
        "replicas": active.len(), "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready, "availableReplicas": available,
        "observedGeneration": generation,
    });
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            o["status"] = strip_zeros(
                status,
                &["readyReplicas", "availableReplicas", "fullyLabeledReplicas"],
            );
            Ok(())
        },
    );
}

/// Kubernetes omits zero counters (`omitempty`); `replicas` stays.
pub(crate) fn strip_zeros(mut status: Value, fields: &[&str]) -> Value {
    if let Some(m) = status.as_object_mut() {
        for f in fields {
            if m.get(*f).and_then(Value::as_i64) == Some(0) {
                m.remove(*f);
            }
        }
    }
    status
}
