//! The scheduler: binds pending pods to nodes.
//!
//! Every pending pod (no `nodeName`, default scheduler) is considered in
//! creation order. A node is feasible when it is not cordoned, the pod
//! tolerates its `NoSchedule`/`NoExecute` taints (a not-ready or lost node
//! carries such taints), its labels satisfy the pod's `nodeSelector` and
//! required node affinity, and it has room under its `pods` capacity.
//! Among feasible nodes the pod goes where its owner has the fewest pods,
//! then where there are the fewest pods, then by name: the spreading the
//! default topology-spread constraints and least-allocated scoring give on
//! a real cluster. CPU and memory requests are not accounted.
//! An unschedulable pod gets `PodScheduled=False` (`Unschedulable`) with the
//! scheduler's summary message.

use crate::sim::recorder::{About, EventType};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde_json::{Value, json};

use super::engine::Engine;
use super::kubelet;
use super::pods::{self, Taint};
use crate::sim::storage::store::WriteOptions;

const SCHEDULER: &str = "kube-scheduler";

/// Schedules every pending pod.
pub(crate) fn run(e: &mut Engine) {
    let Ok(list) = e.store.list(&pods::gvr(), None, &Default::default()) else {
        return;
    };
    let mut on_node: HashMap<String, u32> = HashMap::new();
    let mut owner_on_node: HashMap<(String, String), u32> = HashMap::new();
    let mut pending: Vec<&Arc<Value>> = Vec::new();
    for p in &list.items {
        let node = pods::str_at(p, "/spec/nodeName");
        if node.is_empty() {
            let sched = pods::str_at(p, "/spec/schedulerName");
            if !pods::deleting(p)
                && !pods::is_terminal(p)
                && (sched.is_empty() || sched == "default-scheduler")
            {
                pending.push(p);
            }
        } else if !pods::is_terminal(p) {
            *on_node.entry(node.to_owned()).or_default() += 1;
            if let Some((_, _, uid)) = pods::controller_of(p) {
                *owner_on_node
                    .entry((uid.to_owned(), node.to_owned()))
                    .or_default() += 1;
            }
        }
    }
    pending.sort_by(|a, b| {
        let k = |p: &Value| {
            (
                pods::str_at(p, "/metadata/creationTimestamp").to_owned(),
                pods::key_of(p),
            )
        };
        k(a).cmp(&k(b))
    });
    let nodes: Vec<Arc<Value>> = e.nodes.values().map(|n| n.obj.clone()).collect();
    for pod in pending {
        let owner = pods::controller_of(pod).map(|(_, _, u)| u.to_owned());
        let mut why: BTreeMap<String, u32> = BTreeMap::new();
        let mut best: Option<((u32, u32, String), &str)> = None;
        for node in &nodes {
            let name = pods::name(node);
            let count = on_node.get(name).copied().unwrap_or(0);
            match infeasible(pod, node, count) {
                Some(reason) => *why.entry(reason).or_default() += 1,
                None => {
                    let same = owner
                        .as_ref()
                        .and_then(|u| owner_on_node.get(&(u.clone(), name.to_owned())))
                        .copied()
                        .unwrap_or(0);
                    let score = (same, count, name.to_owned());
                    if best.as_ref().is_none_or(|(s, _)| score < *s) {
                        best = Some((score, name));
                    }
                }
            }
        }
        let key = pods::key_of(pod);
        match best {
            Some((_, node)) => {
                bind(e, &key, node);
                *on_node.entry(node.to_owned()).or_default() += 1;
                if let Some(u) = owner {
                    *owner_on_node.entry((u, node.to_owned())).or_default() += 1;
                }
            }
            None => unschedulable(e, &key, nodes.len(), &why),
        }
    }
}

/// Why `pod` cannot go to `node` (the scheduler's wording), or None.
fn infeasible(pod: &Value, node: &Value, count: u32) -> Option<String> {
    if node.pointer("/spec/unschedulable").and_then(Value::as_bool) == Some(true) {
        let cordon = Taint {
            key: crate::sim::workloads::nodes::TAINT_UNSCHEDULABLE.into(),
            value: String::new(),
            effect: "NoSchedule".into(),
            time_added: None,
        };
        if pods::toleration(pod, &cordon).is_none() {
            return Some("node(s) were unschedulable".into());
        }
    }
    for t in Taint::of(node) {
        if (t.effect == "NoSchedule" || t.effect == "NoExecute")
            && pods::toleration(pod, &t).is_none()
        {
            return Some(format!(
                "node(s) had untolerated taint {{{}: {}}}",
                t.key, t.value
            ));
        }
    }
    if !node_selector_ok(pod, node) || !affinity_ok(pod, node) {
        return Some("node(s) didn't match Pod's node affinity/selector".into());
    }
    let capacity = pods::str_at(node, "/status/allocatable/pods")
        .parse::<u32>()
        .unwrap_or(110);
    if count >= capacity {
        return Some("Too many pods".into());
    }
    None
}

fn node_selector_ok(pod: &Value, node: &Value) -> bool {
    let Some(sel) = pod.pointer("/spec/nodeSelector").and_then(Value::as_object) else {
        return true;
    };
    sel.iter().all(|(k, v)| {
        node.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            == v.as_str()
    })
}

/// Required node affinity: any term, every expression of it.
pub(crate) fn affinity_ok(pod: &Value, node: &Value) -> bool {
    let Some(terms) = pod
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        .and_then(Value::as_array)
    else {
        return true;
    };
    let label = |k: &str| {
        node.pointer("/metadata/labels")
            .and_then(|l| l.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let field = |k: &str| (k == "metadata.name").then(|| pods::name(node).to_owned());
    terms.iter().any(|term| {
        let check = |list: &str, get: &dyn Fn(&str) -> Option<String>| {
            term.get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .all(|r| requirement_ok(r, get))
        };
        check("matchExpressions", &label) && check("matchFields", &field)
    })
}

fn requirement_ok(r: &Value, get: &dyn Fn(&str) -> Option<String>) -> bool {
    let v = get(pods::str_at(r, "/key"));
    let values: Vec<&str> = r
        .get("values")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let num = |s: &str| s.parse::<i64>().ok();
    match pods::str_at(r, "/operator") {
        "In" => v.is_some_and(|v| values.contains(&v.as_str())),
        "NotIn" => v.is_none_or(|v| !values.contains(&v.as_str())),
        "Exists" => v.is_some(),
        "DoesNotExist" => v.is_none(),
        "Gt" => v
            .and_then(|v| num(&v))
            .zip(values.first().and_then(|x| num(x)))
            .is_some_and(|(a, b)| a > b),
        "Lt" => v
            .and_then(|v| num(&v))
            .zip(values.first().and_then(|x| num(x)))
            .is_some_and(|(a, b)| a < b),
        _ => false,
    }
}

fn bind(e: &mut Engine, key: &str, node: &str) {
    let r = pods::ref_of(pods::gvr(), key);
    let opts = WriteOptions::manager(SCHEDULER);
    let bound = e.store.mutate(&r, false, &opts, |o| {
        if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut)
            && spec
                .get("nodeName")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            spec.insert("nodeName".into(), json!(node));
        }
        Ok(())
    });
    let Ok(pod) = bound else {
        return;
    };
    e.events.scheduler.record(
        About::object(&pod),
        EventType::Normal,
        "Scheduled",
        &format!("Successfully assigned {key} to {node}"),
    );
    let now = e.store.now_rfc3339();
    let _ = e.store.mutate(&r, true, &opts, |o| {
        if !o.get("status").is_some_and(Value::is_object) {
            o["status"] = json!({});
        }
        if o["status"].get("phase").is_none() {
            o["status"]["phase"] = json!("Pending");
        }
        kubelet::set_condition(&mut o["status"], "PodScheduled", "True", "", "", &now);
        Ok(())
    });
}

fn unschedulable(e: &mut Engine, key: &str, total: usize, why: &BTreeMap<String, u32>) {
    let reasons: Vec<String> = why.iter().map(|(r, n)| format!("{n} {r}")).collect();
    let message = if total == 0 {
        "no nodes available to schedule pods".to_owned()
    } else {
        format!(
            "0/{total} nodes are available: {}. preemption: 0/{total} nodes are available: {total} Preemption is not helpful for scheduling.",
            reasons.join(", ")
        )
    };
    let now = e.store.now_rfc3339();
    let r = pods::ref_of(pods::gvr(), key);
    if let Ok(pod) = e.store.get(&r) {
        e.events.scheduler.record(
            About::object(&pod),
            EventType::Warning,
            "FailedScheduling",
            &message,
        );
    }
    let _ = e
        .store
        .mutate(&r, true, &WriteOptions::manager(SCHEDULER), |o| {
            if !o.get("status").is_some_and(Value::is_object) {
                o["status"] = json!({});
            }
            o["status"]["phase"] = json!("Pending");
            kubelet::set_condition(
                &mut o["status"],
                "PodScheduled",
                "False",
                "Unschedulable",
                &message,
                &now,
            );
            Ok(())
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, taints: Value, labels: Value) -> Value {
        json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints},
               "status": {"allocatable": {"pods": "2"}}})
    }

    #[test]
    fn taints_selectors_affinity_and_capacity() {
        let pod = json!({"spec": {}});
        let cp = node(
            "cp",
            json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
            json!({}),
        );
        assert!(
            infeasible(&pod, &cp, 0)
                .unwrap()
                .contains("untolerated taint")
        );
        let w = node("w", json!([]), json!({"disk": "ssd"}));
        assert_eq!(infeasible(&pod, &w, 0), None);
        assert_eq!(infeasible(&pod, &w, 2).as_deref(), Some("Too many pods"));
        let picky = json!({"spec": {"nodeSelector": {"disk": "hdd"}}});
        assert!(
            infeasible(&picky, &w, 0)
                .unwrap()
                .contains("affinity/selector")
        );
        let pinned = json!({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w"]}]}]}}}}});
        assert_eq!(infeasible(&pinned, &w, 0), None);
        assert!(infeasible(&pinned, &node("x", json!([]), json!({})), 0).is_some());
    }
}
