//! The DaemonSet controller: one pod per node the pod may run on (node
//! selector, required node affinity, and taints its tolerations cover; a
//! DaemonSet's pods tolerate not-ready, unreachable, pressure and
//! unschedulable taints, as upstream adds). Pods are pinned to their node
//! with node affinity on `metadata.name` and bound by the scheduler. A
//! template change replaces pods node by node, at most `maxUnavailable`
//! (default 1) unavailable at a time; `OnDelete` leaves that to the user.

use crate::sim::recorder::{About, EventType};
use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use super::deployment::{rollout::scaled, template_hash};
use super::engine::Engine;
use super::pods::{self, Taint};
use super::replicaset::{self, KCM, owned_pods, strip_zeros};
use crate::sim::storage::store::{DeleteOptions, Gvr, WriteOptions};

fn gvr() -> Gvr {
    Gvr::new("apps", "v1", "daemonsets")
}

/// The tolerations the DaemonSet controller adds to its pods.
fn daemon_tolerations(spec: &mut Value) {
    let list = spec
        .as_object_mut()
        .map(|m| m.entry("tolerations").or_insert_with(|| json!([])));
    let Some(Value::Array(list)) = list else {
        return;
    };
    for (key, effect) in [
        ("node.kubernetes.io/not-ready", "NoExecute"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"),
        ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"),
        ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ] {
        if !list
            .iter()
            .any(|t| pods::str_at(t, "/key") == key && pods::str_at(t, "/effect") == effect)
        {
            list.push(json!({"key": key, "operator": "Exists", "effect": effect}));
        }
    }
}

/// The node a daemon pod is pinned to.
fn target_node(pod: &Value) -> String {
    match pods::str_at(pod, "/spec/nodeName") {
        "" => pod
            .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchFields/0/values/0")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        n => n.to_owned(),
    }
}

/// Whether the daemon's pod (with `spec`) should be placed on `node`, and
/// whether one already there may stay: as upstream, only `NoExecute`
/// taints evict, `NoSchedule` ones only keep new pods away.
fn should_run(spec: &Value, node: &Value) -> (bool, bool) {
    let probe = json!({"spec": spec});
    let labels = node.pointer("/metadata/labels");
    let selector_ok = spec
        .get("nodeSelector")
        .and_then(Value::as_object)
        .is_none_or(|sel| {
            sel.iter()
                .all(|(k, v)| labels.and_then(|l| l.get(k)) == Some(v))
        });
    let fits = selector_ok && super::scheduler::affinity_ok(&probe, node);
    let tolerated = |effect: &str| {
        Taint::of(node)
            .iter()
            .filter(|t| t.effect == effect)
            .all(|t| pods::toleration(&probe, t).is_some())
    };
    let stay = fits && tolerated("NoExecute");
    (stay && tolerated("NoSchedule"), stay)
}

/// Reconciles one DaemonSet.
pub(crate) fn reconcile(e: &mut Engine, key: &str) {
    let Ok(ds) = e.store.get(&pods::ref_of(gvr(), key)) else {
        return;
    };
    if pods::deleting(&ds) || !ds.pointer("/spec/template").is_some_and(Value::is_object) {
        return;
    }
    let template = ds
        .pointer("/spec/template")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let rev = template_hash(&template, None);
    let mut spec = template.get("spec").cloned().unwrap_or_else(|| json!({}));
    daemon_tolerations(&mut spec);
    let nodes: Vec<Arc<Value>> = e.nodes.values().map(|n| n.obj.clone()).collect();
    let (mut wanted, mut keep): (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for n in &nodes {
        let (place, stay) = should_run(&spec, n);
        if place {
            wanted.push(pods::name(n).to_owned());
        }
        if stay {
            keep.push(pods::name(n).to_owned());
        }
    }
    let mut by_node: BTreeMap<String, Vec<Arc<Value>>> = BTreeMap::new();
    for p in owned_pods(e, pods::uid(&ds)) {
        if pods::is_terminal(&p) {
            delete_pod(e, &ds, &p);
            continue;
        }
        if pods::deleting(&p) {
            continue;
        }
        by_node.entry(target_node(&p)).or_default().push(p);
    }
    // Pods on nodes they should not run on, and duplicates.
    let mut misscheduled = 0;
    for (node, list) in &mut by_node {
        if !keep.contains(node) {
            misscheduled += list.len();
            for p in list.drain(..) {
                delete_pod(e, &ds, &p);
            }
        } else if list.len() > 1 {
            for p in list.drain(1..) {
                delete_pod(e, &ds, &p);
            }
        }
    }
    by_node.retain(|_, l| !l.is_empty());
    // A pod on a node that only keeps existing pods counts as wanted there.
    for node in by_node.keys() {
        if !wanted.contains(node) {
            wanted.push(node.clone());
        }
    }
    wanted.sort();
    for node in &wanted {
        if !by_node.contains_key(node)
            && let Some(p) = create_pod(e, &ds, &template, &spec, node, &rev)
        {
            by_node.insert(node.clone(), vec![p]);
        }
    }
    let now = e.now();
    let min_ready = pods::int_at(&ds, "/spec/minReadySeconds").unwrap_or(0);
    let desired = wanted.len();
    let current: Vec<&Arc<Value>> = by_node.values().flatten().collect();
    let ready = current.iter().filter(|p| pods::is_ready(p)).count();
    let available = current
        .iter()
        .filter(|p| pods::is_available(p, min_ready, now))
        .count();
    let rev_of =
        |p: &Value| pods::str_at(p, "/metadata/labels/controller-revision-hash").to_owned();
    let updated = current.iter().filter(|p| rev_of(p) == rev).count();
    // Rolling update: replace outdated pods while few enough are unavailable.
    if pods::str_at(&ds, "/spec/updateStrategy/type") != "OnDelete" {
        let max_unavailable = scaled(
            ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"),
            i64::try_from(desired).unwrap_or(0),
            true,
            "1",
        )
        .max(1);
        let mut unavailable = i64::try_from(desired.saturating_sub(available)).unwrap_or(0);
        for list in by_node.values() {
            let Some(p) = list.first() else { continue };
            if rev_of(p) != rev && unavailable < max_unavailable {
                delete_pod(e, &ds, p);
                if pods::is_available(p, min_ready, now) {
                    unavailable += 1;
                }
            }
        }
    }
    if let Some(next) = current
        .iter()
        .filter_map(|p| pods::available_at(p, min_ready))
        .filter(|t| *t > now)
        .min()
    {
        e.requeue_at(super::agenda::Ctl::DaemonSet, key, next);
    }
    let status = strip_zeros(
        json!({
            "observedGeneration": pods::int_at(&ds, "/metadata/generation").unwrap_or(1),
            "desiredNumberScheduled": desired, "currentNumberScheduled": current.len(),
            "numberMisscheduled": misscheduled, "numberReady": ready, "numberAvailable": available,
            "numberUnavailable": desired.saturating_sub(available), "updatedNumberScheduled": updated,
        }),
        &[
            "numberAvailable",
            "numberUnavailable",
            "updatedNumberScheduled",
        ],
    );
    let _ = e.store.mutate(
        &pods::ref_of(gvr(), key),
        true,
        &WriteOptions::manager(KCM),
        |o| {
            o["status"] = status;
            Ok(())
        },
    );
}

fn delete_pod(e: &mut Engine, ds: &Value, p: &Value) {
    let r = pods::ref_of(pods::gvr(), &pods::key_of(p));
    if e.store.delete(&r, &DeleteOptions::default()).is_ok() {
        e.events.daemonset.record(
            About::object(ds),
            EventType::Normal,
            "SuccessfulDelete",
            &format!("Deleted pod: {}", pods::name(p)),
        );
    }
}

fn create_pod(
    e: &mut Engine,
    ds: &Value,
    template: &Value,
    spec: &Value,
    node: &str,
    rev: &str,
) -> Option<Arc<Value>> {
    let ns = pods::namespace(ds);
    let name = e.pod_name(
        &format!("ds/{}/{node}", pods::key_of(ds)),
        ns,
        pods::name(ds),
    );
    let mut tpl = template.clone();
    pods::ensure_object(&mut tpl);
    tpl["spec"] = spec.clone();
    pods::ensure_object(&mut tpl["spec"]);
    pods::ensure_object(&mut tpl["spec"]["affinity"]);
    pods::ensure_object(&mut tpl["spec"]["affinity"]["nodeAffinity"]);
    tpl["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]
    });
    let pod = pods::from_template(
        &tpl,
        ns,
        &name,
        pods::owner_ref(ds, "apps/v1", "DaemonSet"),
        &[
            ("controller-revision-hash", rev),
            (
                "pod-template-generation",
                &pods::int_at(ds, "/metadata/generation")
                    .unwrap_or(1)
                    .to_string(),
            ),
        ],
        replicaset::toleration_secs(e),
    );
    let created = e
        .store
        .create(&pods::gvr(), Some(ns), pod, &WriteOptions::manager(KCM));
    let (t, reason, message) = match &created {
        Ok(_) => (
            EventType::Normal,
            "SuccessfulCreate",
            format!("Created pod: {name}"),
        ),
        Err(err) => (
            EventType::Warning,
            "FailedCreate",
            format!("Error creating: {}", err.message),
        ),
    };
    e.events
        .daemonset
        .record(About::object(ds), t, reason, &message);
    created
        .map_err(|err| tracing::debug!(daemonset = pods::name(ds), error = %err, "sim: could not create pod"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemons_skip_control_planes_they_do_not_tolerate() {
        let cp = json!({"metadata": {"name": "cp"}, "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]}});
        let lost = json!({"metadata": {"name": "w"}, "spec": {"taints": [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]}});
        let mut spec = json!({});
        daemon_tolerations(&mut spec);
        assert_eq!(
            should_run(&spec, &cp),
            (false, true),
            "NoSchedule: no new pods, old ones stay"
        );
        assert_eq!(
            should_run(&spec, &lost),
            (true, true),
            "daemons tolerate unreachable nodes"
        );
        let cordoned_new = json!({"metadata": {"name": "w"}, "spec": {"taints": [{"key": "x", "effect": "NoSchedule"}]}});
        assert_eq!(
            should_run(&spec, &cordoned_new),
            (false, true),
            "NoSchedule keeps, does not evict"
        );
        let mut broad = json!({"tolerations": [{"operator": "Exists"}]});
        daemon_tolerations(&mut broad);
        assert_eq!(should_run(&broad, &cp), (true, true));
        let picky = json!({"nodeSelector": {"disk": "ssd"}});
        assert_eq!(
            should_run(&picky, &json!({"metadata": {"name": "x", "labels": {}}})),
            (false, false)
        );
    }
}
