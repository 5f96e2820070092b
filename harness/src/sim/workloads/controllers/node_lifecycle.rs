//! Node transitions (the kubelet reporting Ready, the node lifecycle
//! controller declaring a silent node `Unknown` and tainting it) and the
//! node fault hooks' effect: a lost node's kubelet stops.
//!
//! Timing of a node loss, with the profile's defaults: the kubelet stops at
//! *t*; at *t* + `node_monitor_grace` (50 s) − up to `node_status_interval`
//! (10 s, the age of its last report) + up to `node_monitor_period` (5 s)
//! the node's conditions go `Unknown` (`NodeStatusUnknown`, "Kubelet stopped
//! posting node status.") and it gets the `node.kubernetes.io/unreachable`
//! `NoSchedule` and `NoExecute` taints; its pods turn `Ready=False` at once
//! and are evicted when their toleration (300 s by default) runs out, so
//! about 5 min 40 s after the loss. Pods that tolerate the taint forever
//! (DaemonSet pods) stay.

use std::sync::Arc;

use serde_json::{Value, json};

use super::NodeFaultError;
use super::engine::Engine;
use super::pods;
use crate::sim::storage::store::WriteOptions;
use crate::sim::workloads::nodes::{self, TAINT_NOT_READY, TAINT_UNREACHABLE};
use crate::sim::workloads::stages::{Next, StageKind};

/// The field manager of the node lifecycle controller.
const NODE_CONTROLLER: &str = "node-controller";

/// Applies a node transition; returns the node afterwards.
pub(crate) fn apply(e: &mut Engine, next: Next, key: &str, node: &Value) -> Option<Arc<Value>> {
    let now = e.store.now_rfc3339();
    let r = pods::ref_of(nodes::gvr(), key);
    match next {
        Next::NodeReady => {
            let conds = nodes::ready_conditions(&now);
            let status = merge_conditions(node, conds, &now);
            let _ = e
                .store
                .mutate(&r, true, &WriteOptions::manager("kubelet"), |o| {
                    pods::ensure_object(&mut o["status"]);
                    o["status"]["conditions"] = status;
                    Ok(())
                });
            set_taints(e, key, |t| {
                t.retain(|x| taint_key(x) != TAINT_NOT_READY && taint_key(x) != TAINT_UNREACHABLE);
            })
        }
        Next::NodeUnreachable => {
            let conds = unknown_conditions(node, &now);
            let _ = e
                .store
                .mutate(&r, true, &WriteOptions::manager(NODE_CONTROLLER), |o| {
                    pods::ensure_object(&mut o["status"]);
                    o["status"]["conditions"] = conds;
                    Ok(())
                });
            set_taints(e, key, |t| {
                t.retain(|x| taint_key(x) != TAINT_NOT_READY);
                if !t
                    .iter()
                    .any(|x| taint_key(x) == TAINT_UNREACHABLE && effect(x) == "NoSchedule")
                {
                    t.push(json!({"key": TAINT_UNREACHABLE, "effect": "NoSchedule"}));
                }
                if !t
                    .iter()
                    .any(|x| taint_key(x) == TAINT_UNREACHABLE && effect(x) == "NoExecute")
                {
                    t.push(
                        json!({"key": TAINT_UNREACHABLE, "effect": "NoExecute", "timeAdded": now}),
                    );
                }
            })
        }
        _ => e.store.get(&r).ok(),
    }
}

fn taint_key(taint: &Value) -> &str {
    pods::str_at(taint, "/key")
}

fn effect(taint: &Value) -> &str {
    pods::str_at(taint, "/effect")
}

/// Keeps `lastTransitionTime` of conditions whose status did not change.
fn merge_conditions(node: &Value, mut new: Vec<Value>, now: &str) -> Value {
    let mut old = node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    old.retain(Value::is_object);
    for c in &mut new {
        if let Some(o) = old
            .iter()
            .find(|o| pods::str_at(o, "/type") == pods::str_at(c, "/type"))
            && pods::str_at(o, "/status") == pods::str_at(c, "/status")
            && let Some(t) = o.get("lastTransitionTime")
        {
            c["lastTransitionTime"] = t.clone();
        }
        c["lastHeartbeatTime"] = json!(now);
    }
    Value::Array(new)
}

/// Every condition `Unknown`, heartbeat times kept (nobody reported).
fn unknown_conditions(node: &Value, now: &str) -> Value {
    let mut conds = node
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| nodes::ready_conditions(now));
    conds.retain(Value::is_object);
    for c in &mut conds {
        c["status"] = json!("Unknown");
        c["reason"] = json!("NodeStatusUnknown");
        c["message"] = json!("Kubelet stopped posting node status.");
        c["lastTransitionTime"] = json!(now);
    }
    Value::Array(conds)
}

/// Rewrites the node's taints with `f` (as Values).
fn set_taints(e: &mut Engine, key: &str, f: impl FnOnce(&mut Vec<Value>)) -> Option<Arc<Value>> {
    let r = pods::ref_of(nodes::gvr(), key);
    e.store
        .mutate(&r, false, &WriteOptions::manager(NODE_CONTROLLER), |o| {
            let mut taints = o
                .pointer("/spec/taints")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            f(&mut taints);
            if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) {
                if taints.is_empty() {
                    spec.remove("taints");
                } else {
                    spec.insert("taints".into(), Value::Array(taints));
                }
            }
            Ok(())
        })
        .ok()
}

/// The node's kubelet stops (fault hook).
pub(crate) fn lose(e: &mut Engine, name: &str) -> Result<(), NodeFaultError> {
    let info = e
        .nodes
        .get_mut(name)
        .ok_or_else(|| NodeFaultError::NoSuchNode(name.to_owned()))?;
    if !info.kubelet_running {
        return Err(NodeFaultError::AlreadyLost(name.to_owned()));
    }
    info.kubelet_running = false;
    let obj = info.obj.clone();
    tracing::debug!(node = name, "sim: node lost");
    e.evaluate(StageKind::Node, name, &obj);
    e.reevaluate_pods_on(name);
    Ok(())
}

/// The node's kubelet starts again (fault hook).
pub(crate) fn restore(e: &mut Engine, name: &str) -> Result<(), NodeFaultError> {
    let info = e
        .nodes
        .get_mut(name)
        .ok_or_else(|| NodeFaultError::NoSuchNode(name.to_owned()))?;
    if info.kubelet_running {
        return Err(NodeFaultError::NotLost(name.to_owned()));
    }
    info.kubelet_running = true;
    let obj = info.obj.clone();
    tracing::debug!(node = name, "sim: node restored");
    e.evaluate(StageKind::Node, name, &obj);
    e.reevaluate_pods_on(name);
    Ok(())
}
