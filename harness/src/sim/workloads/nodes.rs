//! The simulated cluster's Nodes: names, the objects created at cluster
//! start, and the condition sets the kubelet and the node lifecycle
//! controller write.
//!
//! Nodes are named as kind names its node containers: one control plane
//! `<cluster>-control-plane`, then workers `<cluster>-worker`,
//! `<cluster>-worker2`, … The control plane carries the
//! `node-role.kubernetes.io/control-plane:NoSchedule` taint only when there
//! are workers (kind removes it from single-node clusters so workloads can
//! run). A node starts `NotReady` (its CNI is not up yet, with the
//! `node.kubernetes.io/not-ready:NoSchedule` taint) and turns `Ready` after
//! the profile's `node_ready` latency (the `node-ready` stage).

use serde_json::{Value, json};

use super::profile::Profile;
use crate::sim::storage::store::{ApiResult, Gvr, ObjectRef, Store, WriteOptions};

/// Label of the control-plane role.
pub const CONTROL_PLANE_LABEL: &str = "node-role.kubernetes.io/control-plane";
/// Taint added while a node is not ready.
pub const TAINT_NOT_READY: &str = "node.kubernetes.io/not-ready";
/// Taint added when a node stops reporting.
pub const TAINT_UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// Taint of cordoned nodes.
pub const TAINT_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// A node's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Runs the control plane.
    ControlPlane,
    /// Runs workloads.
    Worker,
}

/// The names of the nodes of a `count`-node cluster named `cluster`, with
/// their roles: kind's naming (see the module docs). At least one node.
pub fn node_names(cluster: &str, count: u32) -> Vec<(String, Role)> {
    let mut out = vec![(format!("{cluster}-control-plane"), Role::ControlPlane)];
    for i in 1..count.max(1) {
        let n = if i == 1 { String::new() } else { i.to_string() };
        out.push((format!("{cluster}-worker{n}"), Role::Worker));
    }
    out
}

/// The `Node` resource.
pub fn gvr() -> Gvr {
    Gvr::core("nodes")
}

/// The InternalIP of the `index`-th node (kind's docker network).
pub fn node_ip(index: usize) -> String {
    format!("172.18.{}.{}", (index + 2) / 256, (index + 2) % 256)
}

fn capacity(profile: &Profile) -> Value {
    let s = &profile.node_shape;
    json!({
        "cpu": s.cpu, "ephemeral-storage": s.ephemeral_storage,
        "hugepages-1Gi": "0", "hugepages-2Mi": "0",
        "memory": s.memory, "pods": s.pods.to_string(),
    })
}

/// The Node object (spec and metadata; status is written separately).
pub fn node_object(cluster: &str, name: &str, role: Role, index: usize, tainted: bool) -> Value {
    let mut labels = json!({
        "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
    });
    let mut taints = vec![json!({"key": TAINT_NOT_READY, "effect": "NoSchedule"})];
    if role == Role::ControlPlane {
        labels[CONTROL_PLANE_LABEL] = json!("");
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = json!("");
        if tainted {
            taints.push(json!({"key": CONTROL_PLANE_LABEL, "effect": "NoSchedule"}));
        }
    }
    let cidr = format!("10.244.{index}.0/24");
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {
            "name": name, "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": {
            "podCIDR": cidr, "podCIDRs": [cidr],
            "providerID": format!("kind://docker/{cluster}/{name}"),
            "taints": taints,
        },
    })
}

fn condition(type_: &str, status: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "lastHeartbeatTime": now, "lastTransitionTime": now})
}

/// The conditions of a healthy node (`Ready=True`).
pub fn ready_conditions(now: &str) -> Vec<Value> {
    vec![
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
            now,
        ),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
            now,
        ),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
            now,
        ),
        condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
            now,
        ),
    ]
}

/// The conditions of a registered node whose network is not up yet.
pub fn not_ready_conditions(now: &str) -> Vec<Value> {
    let mut c = ready_conditions(now);
    c[3] = condition(
        "Ready",
        "False",
        "KubeletNotReady",
        "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized",
        now,
    );
    c
}

/// The full status of a node at registration.
///
/// `version` is the cluster's (`/version`'s `gitVersion`): kubelet and
/// kube-proxy report the API server's version, one version everywhere.
pub fn initial_status(
    profile: &Profile,
    name: &str,
    index: usize,
    now: &str,
    version: &str,
) -> Value {
    json!({
        "addresses": [{"type": "InternalIP", "address": node_ip(index)}, {"type": "Hostname", "address": name}],
        "capacity": capacity(profile), "allocatable": capacity(profile),
        "conditions": not_ready_conditions(now),
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "architecture": "amd64", "operatingSystem": "linux",
            "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.8.0-generic",
            "containerRuntimeVersion": "containerd://2.0.3",
            "kubeletVersion": version, "kubeProxyVersion": version,
            "bootID": "", "machineID": "", "systemUUID": "",
        },
    })
}

/// Creates the nodes of a `count`-node cluster named `cluster` (see the
/// module docs); returns their names in creation order.
///
/// # Errors
/// The store's errors (e.g. 409 when a node of that name exists).
pub fn create_nodes(
    store: &Store,
    cluster: &str,
    count: u32,
    profile: &Profile,
    version: &str,
) -> ApiResult<Vec<String>> {
    let names = node_names(cluster, count);
    let tainted = names.len() > 1;
    let opts = WriteOptions::manager("kubelet");
    for (index, (name, role)) in names.iter().enumerate() {
        let obj = node_object(cluster, name, *role, index, tainted);
        store.create(&gvr(), None, obj, &opts)?;
        let now = store.now_rfc3339();
        let status = initial_status(profile, name, index, &now, version);
        store.mutate(&ObjectRef::cluster(gvr(), name), true, &opts, |o| {
            o["status"] = status;
            Ok(())
        })?;
    }
    Ok(names.into_iter().map(|(n, _)| n).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_naming() {
        let n: Vec<String> = node_names("dr", 4).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            n,
            vec!["dr-control-plane", "dr-worker", "dr-worker2", "dr-worker3"]
        );
        assert_eq!(node_names("dr", 0).len(), 1);
        assert_eq!(node_names("dr", 1)[0].1, Role::ControlPlane);
    }

    #[test]
    fn control_plane_is_tainted_only_with_workers() {
        let has_cp_taint = |v: &Value| {
            v["spec"]["taints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["key"] == CONTROL_PLANE_LABEL)
        };
        assert!(has_cp_taint(&node_object(
            "c",
            "c-control-plane",
            Role::ControlPlane,
            0,
            true
        )));
        assert!(!has_cp_taint(&node_object(
            "c",
            "c-control-plane",
            Role::ControlPlane,
            0,
            false
        )));
        let w = node_object("c", "c-worker", Role::Worker, 1, true);
        assert!(!has_cp_taint(&w));
        assert_eq!(
            w["metadata"]["labels"]["kubernetes.io/hostname"],
            "c-worker"
        );
        assert!(w["metadata"]["labels"].get(CONTROL_PLANE_LABEL).is_none());
    }

    #[test]
    fn conditions_carry_the_kubelet_reasons() {
        let r = ready_conditions("t");
        assert_eq!(r[3]["type"], "Ready");
        assert_eq!(r[3]["reason"], "KubeletReady");
        assert_eq!(not_ready_conditions("t")[3]["status"], "False");
        assert_eq!(node_ip(0), "172.18.0.2");
        assert_eq!(node_ip(300), "172.18.1.46");
    }
}
