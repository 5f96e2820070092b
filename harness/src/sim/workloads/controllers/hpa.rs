//! The HorizontalPodAutoscaler controller, without a metrics API (the
//! simulator runs none, as a kind cluster without metrics-server):
//!
//! - a target scaled to 0 disables autoscaling (`ScalingActive=False`,
//!   `ScalingDisabled`);
//! - replicas outside `[minReplicas, maxReplicas]` are brought to the
//!   nearest bound (`SuccessfulRescale`, `ScalingLimited=True`);
//! - within the bounds nothing changes: the metrics cannot be read, which
//!   `ScalingActive=False` (`FailedGetResourceMetric`) and a Warning Event
//!   say with kube-controller-manager's words.
//!
//! It reacts to writes of the HPA and of its target (event-driven, not the
//! real controller's 15 s resync: nothing else could change its answer).

use serde_json::{Value, json};

use super::engine::Engine;
use super::pods;
use crate::sim::recorder::{About, EventType};
use crate::sim::storage::store::conditions::set_condition;
use crate::sim::storage::store::{Gvr, ObjectRef, WriteOptions};

const KCM: &str = "kube-controller-manager";

pub(crate) fn gvr() -> Gvr {
    Gvr::new("autoscaling", "v2", "horizontalpodautoscalers")
}

/// The scale target's Gvr, for the kinds the simulator scales.
fn target_gvr(kind: &str) -> Option<Gvr> {
    match kind {
        "Deployment" => Some(Gvr::new("apps", "v1", "deployments")),
        "StatefulSet" => Some(Gvr::new("apps", "v1", "statefulsets")),
        "ReplicaSet" => Some(Gvr::new("apps", "v1", "replicasets")),
        _ => None,
    }
}

/// The metric the first spec entry names, for the messages.
fn metric_name(hpa: &Value) -> String {
    let m = hpa.pointer("/spec/metrics/0");
    match m.map(|m| pods::str_at(m, "/type")) {
        Some("Resource") => m
            .map_or("cpu", |m| pods::str_at(m, "/resource/name"))
            .to_owned(),
        Some("ContainerResource") => m
            .map_or("cpu", |m| pods::str_at(m, "/containerResource/name"))
            .to_owned(),
        Some(other) if !other.is_empty() => other.to_lowercase(),
        _ => "cpu".to_owned(),
    }
}

/// HPAs in `ns` that target `kind`/`name`.
pub(crate) fn targeting(e: &Engine, ns: &str, kind: &str, name: &str) -> Vec<String> {
    e.store
        .list(&gvr(), Some(ns), &Default::default())
        .map(|l| {
            l.items
                .iter()
                .filter(|h| {
                    pods::str_at(h, "/spec/scaleTargetRef/kind") == kind
                        && pods::str_at(h, "/spec/scaleTargetRef/name") == name
                })
                .map(|h| pods::key_of(h))
                .collect()
        })
        .unwrap_or_default()
}

/// Reconciles one HPA.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(hpa) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&hpa) {
        return;
    }
    let ns = pods::namespace(&hpa).to_owned();
    let kind = pods::str_at(&hpa, "/spec/scaleTargetRef/kind").to_owned();
    let name = pods::str_at(&hpa, "/spec/scaleTargetRef/name").to_owned();
    let min = pods::int_at(&hpa, "/spec/minReplicas").unwrap_or(1);
    let max = pods::int_at(&hpa, "/spec/maxReplicas").unwrap_or(min);
    let now = e.store.now_rfc3339();
    let target =
        target_gvr(&kind).and_then(|g| e.store.get(&ObjectRef::namespaced(g, &ns, &name)).ok());
    let Some(target) = target else {
        let msg = format!(
            "the HPA controller was unable to get the target's current scale: {}s.apps \"{name}\" not found",
            kind.to_lowercase()
        );
        e.events.hpa.record(
            About::object(&hpa),
            EventType::Warning,
            "FailedGetScale",
            &msg,
        );
        write_status(
            e,
            key,
            &hpa,
            None,
            None,
            &[("AbleToScale", "False", "FailedGetScale", &msg)],
            &now,
        );
        return;
    };
    let current = pods::int_at(&target, "/spec/replicas").unwrap_or(1);
    let able = (
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    );
    if current == 0 && min != 0 {
        let off = (
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        );
        write_status(e, key, &hpa, Some(current), Some(0), &[able, off], &now);
        return;
    }
    let (desired, limited) = if current > max {
        (
            max,
            Some((
                "TooManyReplicas",
                "the desired replica count is more than the maximum replica count",
                "Current number of replicas above Spec.MaxReplicas",
            )),
        )
    } else if current < min {
        (
            min,
            Some((
                "TooFewReplicas",
                "the desired replica count is less than the minimum replica count",
                "Current number of replicas below Spec.MinReplicas",
            )),
        )
    } else {
        (current, None)
    };
    let metric = metric_name(&hpa);
    let why = format!(
        "failed to get {metric} utilization: unable to get metrics for resource {metric}: no metrics returned from resource metrics API"
    );
    if let Some((_, _, reason)) = limited {
        let r = ObjectRef::namespaced(target_gvr(&kind).unwrap_or_else(gvr), &ns, &name);
        let scaled = e.store.mutate(&r, false, &WriteOptions::manager(KCM), |o| {
            pods::ensure_object(&mut o["spec"]);
            o["spec"]["replicas"] = json!(desired);
            Ok(())
        });
        if scaled.is_ok() {
            e.events.hpa.record(
                About::object(&hpa),
                EventType::Normal,
                "SuccessfulRescale",
                &format!("New size: {desired}; reason: {reason}"),
            );
        }
    } else {
        e.events.hpa.record(
            About::object(&hpa),
            EventType::Warning,
            "FailedGetResourceMetric",
            &why,
        );
    }
    let active_msg = format!("the HPA was unable to compute the replica count: {why}");
    let active = (
        "ScalingActive",
        "False",
        "FailedGetResourceMetric",
        active_msg.as_str(),
    );
    let limit = match limited {
        Some((reason, msg, _)) => ("ScalingLimited", "True", reason, msg),
        None => (
            "ScalingLimited",
            "False",
            "DesiredWithinRange",
            "the desired count is within the acceptable range",
        ),
    };
    let conds = if limited.is_some() {
        vec![able, limit]
    } else {
        vec![able, active, limit]
    };
    let scaled_now = (desired != current).then_some(now.clone());
    write_status_at(
        e,
        key,
        &hpa,
        Some(current),
        Some(desired),
        &conds,
        &now,
        scaled_now,
    );
}

fn write_status(
    e: &Engine,
    key: &str,
    hpa: &Value,
    current: Option<i64>,
    desired: Option<i64>,
    conds: &[(&str, &str, &str, &str)],
    now: &str,
) {
    write_status_at(e, key, hpa, current, desired, conds, now, None);
}

#[allow(clippy::too_many_arguments)]
fn write_status_at(
    e: &Engine,
    key: &str,
    hpa: &Value,
    current: Option<i64>,
    desired: Option<i64>,
    conds: &[(&str, &str, &str, &str)],
    now: &str,
    scaled_at: Option<String>,
) {
    let _ = hpa;
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            if !o.get("status").is_some_and(Value::is_object) {
                o["status"] = json!({});
            }
            o["status"]["currentReplicas"] = json!(current.unwrap_or(0));
            o["status"]["desiredReplicas"] = json!(desired.unwrap_or(0));
            if let Some(t) = &scaled_at {
                o["status"]["lastScaleTime"] = json!(t);
            }
            for (t, s, r, m) in conds {
                set_condition(o, t, s, r, m, now, None);
            }
            Ok(())
        },
    );
}
