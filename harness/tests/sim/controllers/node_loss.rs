//! Node loss: the node goes Unknown after the grace period, its pods are
//! evicted after their toleration and rescheduled, the Deployment recovers.

use std::time::Duration;

use gameday::sim::Profile;
use gameday::sim::workloads::controllers::NodeFaultError;
use gameday::sim::{Gvr, ObjectRef};
use serde_json::Value;

use super::*;

fn node_ref(name: &str) -> ObjectRef {
    ObjectRef::cluster(Gvr::core("nodes"), name)
}

fn taint_keys(n: &Value) -> Vec<String> {
    n["spec"]["taints"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            format!(
                "{}:{}",
                t["key"].as_str().unwrap(),
                t["effect"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_lost_node_goes_unknown_its_pods_are_evicted_and_rescheduled() {
    let c = virtual_cluster(Profile::kind(), 3, 21).await;
    nodes_ready(&c).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 4, "nginx:1.27"));
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    wait_for(s, &d_ref, |d| {
        rolled_out(d) && d["status"]["availableReplicas"] == 4
    })
    .await;
    let on = |node: &str| {
        s.list(&pods(), Some("app"), &Default::default())
            .unwrap()
            .items
            .into_iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .collect::<Vec<_>>()
    };
    let victims = on("sim-worker2");
    assert_eq!(victims.len(), 2);

    let lost_at = s.clock().now();
    c.lose_node("sim-worker2").await.unwrap();
    let (node, unknown_at) = wait_for(s, &node_ref("sim-worker2"), |n| {
        cond(n, "Ready").is_some_and(|c| c["status"] == "Unknown")
    })
    .await;
    let grace = between(lost_at, unknown_at);
    assert!(
        grace >= Duration::from_secs(40) && grace <= Duration::from_secs(55),
        "NotReady after {grace:?}"
    );
    let ready = cond(&node, "Ready").unwrap();
    assert_eq!(ready["reason"], "NodeStatusUnknown");
    assert_eq!(ready["message"], "Kubelet stopped posting node status.");
    let (node, _) = wait_for(s, &node_ref("sim-worker2"), |n| taint_keys(n).len() == 2).await;
    let mut keys = taint_keys(&node);
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "node.kubernetes.io/unreachable:NoExecute",
            "node.kubernetes.io/unreachable:NoSchedule"
        ]
    );
    // Its pods are no longer Ready; the Deployment loses availability.
    let victim = ObjectRef::namespaced(
        pods(),
        "app",
        victims[0]["metadata"]["name"].as_str().unwrap(),
    );
    wait_for(s, &victim, |p| {
        cond(p, "Ready").is_some_and(|c| c["status"] == "False")
    })
    .await;
    wait_for(s, &d_ref, |d| {
        cond(d, "Available").is_some_and(|c| c["status"] == "False")
    })
    .await;

    // Evicted when the 300 s toleration runs out, recreated on the other worker.
    let (_, evicted_at) = wait_pods(s, "app", |p| {
        p.iter().all(|p| p["spec"]["nodeName"] != "sim-worker2")
    })
    .await;
    let toleration = between(unknown_at, evicted_at);
    assert!(
        toleration >= Duration::from_secs(299) && toleration <= Duration::from_secs(301),
        "evicted {toleration:?} after the taint"
    );
    let (d, _) = wait_for(s, &d_ref, |d| {
        d["status"]["availableReplicas"] == 4
            && cond(d, "Available").is_some_and(|c| c["status"] == "True")
    })
    .await;
    assert_eq!(d["status"]["readyReplicas"], 4);
    assert_eq!(on("sim-worker").len(), 4);

    // Restored: Ready again (after the profile's node_ready), then untainted.
    let restored_at = s.clock().now();
    c.restore_node("sim-worker2").await.unwrap();
    let (_, ready_at) = wait_for(s, &node_ref("sim-worker2"), |n| {
        cond(n, "Ready").is_some_and(|c| c["status"] == "True")
    })
    .await;
    let back = between(restored_at, ready_at);
    assert!(
        back >= Duration::from_secs(10) && back <= Duration::from_secs(25),
        "{back:?}"
    );
    wait_for(s, &node_ref("sim-worker2"), |n| taint_keys(n).is_empty()).await;
}

#[tokio::test]
async fn daemon_pods_stay_on_a_lost_node() {
    let c = virtual_cluster(Profile::instant(), 2, 22).await;
    let s = c.store();
    namespace(s, "sys");
    let ds = Gvr::new("apps", "v1", "daemonsets");
    create(
        s,
        &ds,
        "sys",
        serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}),
    );
    wait_for(s, &ObjectRef::namespaced(ds.clone(), "sys", "agent"), |o| {
        o["status"]["numberReady"] == 1
    })
    .await;
    c.lose_node("sim-worker").await.unwrap();
    wait_for(s, &node_ref("sim-worker"), |n| {
        cond(n, "Ready").is_some_and(|c| c["status"] == "Unknown")
    })
    .await;
    // Well past any toleration: the daemon pod is still there, not ready.
    let clock = s.clock().clone();
    drop(clock.sleep(Duration::from_secs(900)).await);
    let pods = s
        .list(&pods(), Some("sys"), &Default::default())
        .unwrap()
        .items;
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0]["spec"]["nodeName"], "sim-worker");
    assert_eq!(cond(&pods[0], "Ready").unwrap()["status"], "False");
}

#[tokio::test]
async fn workers_are_lost_in_a_fixed_order_and_misuse_is_reported() {
    let c = virtual_cluster(Profile::instant(), 4, 23).await;
    assert_eq!(
        c.lose_workers(2).await.unwrap(),
        vec!["sim-worker3", "sim-worker2"]
    );
    assert_eq!(
        c.lose_workers(2).await.unwrap_err(),
        NodeFaultError::NotEnoughWorkers {
            wanted: 2,
            available: 1
        }
    );
    assert_eq!(
        c.lose_node("sim-worker2").await.unwrap_err(),
        NodeFaultError::AlreadyLost("sim-worker2".into())
    );
    assert_eq!(
        c.restore_node("sim-worker").await.unwrap_err(),
        NodeFaultError::NotLost("sim-worker".into())
    );
    assert_eq!(
        c.lose_node("nope").await.unwrap_err(),
        NodeFaultError::NoSuchNode("nope".into())
    );
    c.restore_node("sim-worker3").await.unwrap();
    let states = c.controllers().node_states().await.unwrap();
    assert_eq!(states.get("sim-worker2"), Some(&false));
    assert_eq!(states.get("sim-worker3"), Some(&true));
    c.destroy();
    assert_eq!(
        c.lose_node("sim-worker").await.unwrap_err(),
        NodeFaultError::Stopped
    );
}

#[tokio::test]
async fn pods_of_a_deleted_node_are_replaced_elsewhere() {
    let c = virtual_cluster(Profile::instant(), 3, 24).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 2, "nginx:1.27"));
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    wait_for(s, &d_ref, |d| {
        rolled_out(d) && d["status"]["availableReplicas"] == 2
    })
    .await;
    s.delete(&node_ref("sim-worker2"), &Default::default())
        .unwrap();
    let (pods, _) = wait_pods(s, "app", |p| {
        p.len() == 2
            && p.iter().all(|p| {
                p["spec"]["nodeName"] == "sim-worker"
                    && cond(p, "Ready").is_some_and(|c| c["status"] == "True")
            })
    })
    .await;
    assert_eq!(pods.len(), 2);
}
