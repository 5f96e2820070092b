//! Workload controllers through the in-process API on a virtual clock.

use std::collections::BTreeMap;

use gameday::sim::Profile;
use gameday::sim::storage::store::{EventType, WriteOptions};
use gameday::sim::{GroupResource, Gvr, ObjectRef};
use serde_json::{Value, json};

use super::*;

fn node_counts(pods: &[std::sync::Arc<Value>]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for p in pods {
        *m.entry(p["spec"]["nodeName"].as_str().unwrap_or("").to_owned())
            .or_default() += 1;
    }
    m
}

#[tokio::test]
async fn deployment_rolls_out_and_spreads_pods_over_workers() {
    let c = virtual_cluster(Profile::instant(), 3, 1).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 4, "nginx:1.27"));
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    let (d, _) = wait_for(s, &d_ref, rolled_out).await;
    assert_eq!(d["status"]["replicas"], 4);
    assert_eq!(d["status"]["readyReplicas"], 4);
    assert_eq!(d["status"]["availableReplicas"], 4);
    assert_eq!(d["status"]["updatedReplicas"], 4);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    let pods = s
        .list(&pods(), Some("app"), &Default::default())
        .unwrap()
        .items;
    assert_eq!(pods.len(), 4);
    let counts = node_counts(&pods);
    assert_eq!(
        counts,
        BTreeMap::from([("sim-worker".to_owned(), 2), ("sim-worker2".to_owned(), 2)]),
        "the tainted control plane gets nothing; workers share evenly"
    );
    let rs_list = s
        .list(
            &Gvr::new("apps", "v1", "replicasets"),
            Some("app"),
            &Default::default(),
        )
        .unwrap()
        .items;
    assert_eq!(rs_list.len(), 1);
    let rs = &rs_list[0];
    let hash = rs["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap();
    assert_eq!(rs["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(
        rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "1"
    );
    for p in &pods {
        assert!(
            p["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with(&format!("web-{hash}-"))
        );
        assert_eq!(p["metadata"]["labels"]["pod-template-hash"], hash);
        assert_eq!(p["status"]["phase"], "Running");
        assert!(
            p["status"]["podIP"]
                .as_str()
                .unwrap()
                .starts_with("10.244.")
        );
        assert!(
            p["status"]["hostIP"]
                .as_str()
                .unwrap()
                .starts_with("172.18.")
        );
        for t in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
            assert_eq!(cond(p, t).unwrap()["status"], "True", "{t}");
        }
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
        assert!(p["status"]["containerStatuses"][0]["state"]["running"]["startedAt"].is_string());
    }
}

#[tokio::test]
async fn a_new_template_rolls_to_a_new_replicaset_and_empties_the_old_one() {
    let c = virtual_cluster(Profile::kind(), 3, 2).await;
    let s = c.store();
    namespace(s, "app");
    create(s, &deployments(), "app", deployment("web", 3, "nginx:1.27"));
    let d_ref = ObjectRef::namespaced(deployments(), "app", "web");
    wait_for(s, &d_ref, rolled_out).await;
    // Watch the pods during the rollout: never more than replicas + surge (1).
    let mut alive: std::collections::BTreeSet<String> = s
        .list(&pods(), Some("app"), &Default::default())
        .unwrap()
        .items
        .iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    let events = record(s, GroupResource::new("", "pods"));
    s.mutate(&d_ref, false, &WriteOptions::manager("test"), |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
        Ok(())
    })
    .unwrap();
    let (d, _) = wait_for(s, &d_ref, |d| {
        d["metadata"]["generation"] == 2 && rolled_out(d)
    })
    .await;
    let mut max_active = 0;
    for (kind, obj, _) in events.lock().unwrap().iter() {
        let name = obj["metadata"]["name"].as_str().unwrap().to_owned();
        match kind {
            EventType::Added => {
                alive.insert(name);
            }
            EventType::Deleted => {
                alive.remove(&name);
            }
            EventType::Modified => {}
        }
        max_active = max_active.max(alive.len());
    }
    assert!(max_active <= 4, "surge exceeded: {max_active} pods");
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    let rs_list = s
        .list(
            &Gvr::new("apps", "v1", "replicasets"),
            Some("app"),
            &Default::default(),
        )
        .unwrap()
        .items;
    assert_eq!(rs_list.len(), 2);
    let (new, old): (Vec<_>, Vec<_>) = rs_list
        .iter()
        .partition(|r| r["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2");
    assert_eq!(new[0]["spec"]["replicas"], 3);
    assert_eq!(old[0]["spec"]["replicas"], 0);
    let (pods, _) = wait_pods(s, "app", |p| p.len() == 3).await;
    for p in pods {
        assert_eq!(p["spec"]["containers"][0]["image"], "nginx:1.28");
    }
}

#[tokio::test]
async fn statefulset_pods_start_in_order_each_after_the_previous_is_ready() {
    let c = virtual_cluster(Profile::kind(), 3, 3).await;
    let s = c.store();
    namespace(s, "db");
    let events = record(s, GroupResource::new("", "pods"));
    let sts = Gvr::new("apps", "v1", "statefulsets");
    create(
        s,
        &sts,
        "db",
        json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "pg"},
            "spec": {"replicas": 3, "serviceName": "pg", "selector": {"matchLabels": {"app": "pg"}},
                "template": {"metadata": {"labels": {"app": "pg"}},
                    "spec": {"containers": [{"name": "pg", "image": "postgres:17"}]}},
                "volumeClaimTemplates": [{"metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]},
        }),
    );
    let (st, _) = wait_for(s, &ObjectRef::namespaced(sts, "db", "pg"), |o| {
        o["status"]["readyReplicas"] == 3
    })
    .await;
    assert_eq!(
        st["status"]["currentRevision"],
        st["status"]["updateRevision"]
    );
    assert_eq!(st["status"]["updatedReplicas"], 3);
    // Replay the pod events: pg-N is created only after pg-(N-1) is Ready.
    let mut ready: Vec<String> = Vec::new();
    let mut created: Vec<String> = Vec::new();
    for (kind, p, _) in events.lock().unwrap().iter() {
        let name = p["metadata"]["name"].as_str().unwrap().to_owned();
        if *kind == EventType::Added {
            let ordinal: usize = name.rsplit('-').next().unwrap().parse().unwrap();
            assert_eq!(ordinal, created.len(), "created out of order: {name}");
            if ordinal > 0 {
                assert!(
                    ready.contains(&format!("pg-{}", ordinal - 1)),
                    "{name} before its predecessor was ready"
                );
            }
            created.push(name);
        } else if cond(p, "Ready").is_some_and(|c| c["status"] == "True") && !ready.contains(&name)
        {
            ready.push(name);
        }
    }
    assert_eq!(created, vec!["pg-0", "pg-1", "pg-2"]);
    let p0 = s.get(&ObjectRef::namespaced(pods(), "db", "pg-0")).unwrap();
    assert_eq!(p0["spec"]["hostname"], "pg-0");
    assert_eq!(p0["spec"]["subdomain"], "pg");
    let pvc = s
        .get(&ObjectRef::namespaced(
            Gvr::core("persistentvolumeclaims"),
            "db",
            "data-pg-1",
        ))
        .unwrap();
    assert_eq!(pvc["status"]["phase"], "Bound");
}

#[tokio::test]
async fn daemonset_runs_one_pod_per_node_it_tolerates() {
    let c = virtual_cluster(Profile::instant(), 3, 4).await;
    let s = c.store();
    namespace(s, "sys");
    let ds = Gvr::new("apps", "v1", "daemonsets");
    let manifest = |name: &str, tolerate_all: bool| {
        let mut spec = json!({"containers": [{"name": "agent", "image": "fluent/fluent-bit:3"}]});
        if tolerate_all {
            spec["tolerations"] = json!([{"operator": "Exists"}]);
        }
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": name},
            "spec": {"selector": {"matchLabels": {"app": name}},
                "template": {"metadata": {"labels": {"app": name}}, "spec": spec}}})
    };
    create(s, &ds, "sys", manifest("workers-only", false));
    create(s, &ds, "sys", manifest("everywhere", true));
    let (w, _) = wait_for(
        s,
        &ObjectRef::namespaced(ds.clone(), "sys", "workers-only"),
        |o| o["status"]["numberReady"] == 2,
    )
    .await;
    assert_eq!(w["status"]["desiredNumberScheduled"], 2);
    assert_eq!(w["status"]["updatedNumberScheduled"], 2);
    let (e, _) = wait_for(s, &ObjectRef::namespaced(ds, "sys", "everywhere"), |o| {
        o["status"]["numberAvailable"] == 3
    })
    .await;
    assert_eq!(e["status"]["desiredNumberScheduled"], 3);
    let pods = s
        .list(&pods(), Some("sys"), &Default::default())
        .unwrap()
        .items;
    let everywhere: Vec<&str> = pods
        .iter()
        .filter(|p| p["metadata"]["labels"]["app"] == "everywhere")
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    let mut nodes = everywhere.clone();
    nodes.sort_unstable();
    assert_eq!(
        nodes,
        vec!["sim-control-plane", "sim-worker", "sim-worker2"]
    );
}

fn job(name: &str, image: &str, completions: i64, parallelism: i64, backoff: i64) -> Value {
    json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
        "spec": {"completions": completions, "parallelism": parallelism, "backoffLimit": backoff,
            "template": {"spec": {"restartPolicy": "Never",
                "containers": [{"name": "task", "image": image}]}}}})
}

#[tokio::test]
async fn job_runs_its_completions_and_turns_complete() {
    let c = virtual_cluster(Profile::kind(), 2, 5).await;
    let s = c.store();
    namespace(s, "batch");
    let jobs = Gvr::new("batch", "v1", "jobs");
    create(s, &jobs, "batch", job("migrate", "busybox:1.37", 3, 2, 6));
    let (j, _) = wait_for(s, &ObjectRef::namespaced(jobs, "batch", "migrate"), |o| {
        cond(o, "Complete").is_some_and(|c| c["status"] == "True")
    })
    .await;
    assert_eq!(j["status"]["succeeded"], 3);
    assert!(j["status"]["completionTime"].is_string());
    assert_eq!(
        cond(&j, "Complete").unwrap()["reason"],
        "CompletionsReached"
    );
    let pods = s
        .list(&pods(), Some("batch"), &Default::default())
        .unwrap()
        .items;
    assert_eq!(pods.len(), 3);
    assert!(pods.iter().all(|p| p["status"]["phase"] == "Succeeded"));
    assert!(
        pods.iter()
            .all(|p| p["metadata"]["labels"]["job-name"] == "migrate")
    );
}

#[tokio::test]
async fn job_of_a_crashing_image_fails_after_its_backoff_limit() {
    let c = virtual_cluster(Profile::instant(), 2, 6).await;
    let s = c.store();
    namespace(s, "batch");
    let jobs = Gvr::new("batch", "v1", "jobs");
    create(s, &jobs, "batch", job("bad", "busybox:crashloop", 1, 1, 2));
    let (j, _) = wait_for(s, &ObjectRef::namespaced(jobs, "batch", "bad"), |o| {
        cond(o, "Failed").is_some_and(|c| c["status"] == "True")
    })
    .await;
    assert_eq!(
        cond(&j, "Failed").unwrap()["reason"],
        "BackoffLimitExceeded"
    );
    assert_eq!(j["status"]["failed"], 3);
    let pods = s
        .list(&pods(), Some("batch"), &Default::default())
        .unwrap()
        .items;
    assert_eq!(
        pods.iter()
            .filter(|p| p["status"]["phase"] == "Failed")
            .count(),
        3
    );
    let term = &pods[0]["status"]["containerStatuses"][0]["state"]["terminated"];
    assert_eq!(
        (term["exitCode"].as_i64(), term["reason"].as_str()),
        (Some(1), Some("Error"))
    );
}

#[tokio::test]
async fn services_get_unique_cluster_ips_headless_ones_none() {
    let c = virtual_cluster(Profile::instant(), 1, 7).await;
    let s = c.store();
    namespace(s, "net");
    let svc = Gvr::core("services");
    let body = |name: &str, headless: bool| {
        let mut spec = json!({"selector": {"app": name}, "ports": [{"port": 80}]});
        if headless {
            spec["clusterIP"] = json!("None");
        }
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
    };
    for n in ["a", "b"] {
        create(s, &svc, "net", body(n, false));
    }
    create(s, &svc, "net", body("h", true));
    let np = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]}});
    create(s, &svc, "net", np);
    for n in ["a", "b", "np"] {
        let r = ObjectRef::namespaced(svc.clone(), "net", n);
        wait_for(s, &r, |o| o["spec"]["clusterIP"].is_string()).await;
    }
    let ip = |n: &str| {
        let r = ObjectRef::namespaced(svc.clone(), "net", n);
        s.get(&r).unwrap()["spec"]["clusterIP"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let (a, b) = (ip("a"), ip("b"));
    assert_ne!(a, b);
    for x in [&a, &b] {
        let second: u32 = x.split('.').nth(1).unwrap().parse().unwrap();
        assert!(x.starts_with("10.") && (96..=111).contains(&second), "{x}");
    }
    assert_eq!(ip("h"), "None");
    let np = s
        .get(&ObjectRef::namespaced(svc.clone(), "net", "np"))
        .unwrap();
    let port = np["spec"]["ports"][0]["nodePort"].as_u64().unwrap();
    assert!((30000..=32767).contains(&port));
    assert_eq!(np["spec"]["ports"][0]["targetPort"], 80);
    let k = s
        .get(&ObjectRef::namespaced(svc, "default", "kubernetes"))
        .unwrap();
    assert_eq!(k["spec"]["clusterIP"], "10.96.0.1");
}

#[tokio::test]
async fn a_pod_nothing_can_host_says_why() {
    let c = virtual_cluster(Profile::instant(), 3, 8).await;
    let s = c.store();
    namespace(s, "x");
    create(
        s,
        &pods(),
        "x",
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "picky"},
        "spec": {"nodeSelector": {"disk": "nvme"}, "containers": [{"name": "c", "image": "nginx:1.27"}]}}),
    );
    let (p, _) = wait_for(s, &ObjectRef::namespaced(pods(), "x", "picky"), |p| {
        cond(p, "PodScheduled").is_some_and(|c| c["status"] == "False")
    })
    .await;
    let c = cond(&p, "PodScheduled").unwrap();
    assert_eq!(c["reason"], "Unschedulable");
    let msg = c["message"].as_str().unwrap();
    assert!(msg.starts_with("0/3 nodes are available:"), "{msg}");
    assert!(
        msg.contains("1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"),
        "{msg}"
    );
    assert!(
        msg.contains("2 node(s) didn't match Pod's node affinity/selector"),
        "{msg}"
    );
}

#[tokio::test]
async fn malformed_objects_do_not_stop_the_controllers() {
    let c = virtual_cluster(Profile::instant(), 2, 9).await;
    let s = c.store();
    namespace(s, "x");
    let w = WriteOptions::manager("test");
    let junk = [
        (
            deployments(),
            json!({"metadata": {"name": "a"}, "spec": {"replicas": 2, "template": "x", "selector": "y"}}),
        ),
        (
            deployments(),
            json!({"metadata": {"name": "b"}, "spec": "x"}),
        ),
        (
            pods(),
            json!({"metadata": {"name": "p"}, "spec": {"containers": "nope", "nodeSelector": 3}}),
        ),
        (
            Gvr::new("apps", "v1", "statefulsets"),
            json!({"metadata": {"name": "s"},
            "spec": {"replicas": 1, "template": {"spec": "z"}, "volumeClaimTemplates": [{"metadata": {"labels": 1}}]}}),
        ),
        (
            Gvr::new("apps", "v1", "daemonsets"),
            json!({"metadata": {"name": "d"}, "spec": {"template": 7}}),
        ),
        (
            Gvr::new("batch", "v1", "jobs"),
            json!({"metadata": {"name": "j"}, "spec": {"template": [], "parallelism": "many"}}),
        ),
        (
            Gvr::core("services"),
            json!({"metadata": {"name": "v"}, "spec": {"type": "NodePort", "ports": [1, "x"]}}),
        ),
    ];
    for (gvr, body) in junk {
        // The API may refuse some; whatever it stores must not break anything.
        let _ = s.create(&gvr, Some("x"), body, &w);
    }
    let node = ObjectRef::cluster(Gvr::core("nodes"), "sim-worker");
    let _ = s.mutate(&node, true, &w, |o| {
        o["status"] = json!({"conditions": ["garbage", 1]});
        Ok(())
    });
    create(s, &deployments(), "x", deployment("good", 1, "nginx:1.27"));
    wait_for(
        s,
        &ObjectRef::namespaced(deployments(), "x", "good"),
        rolled_out,
    )
    .await;
    assert!(
        c.controllers().node_states().await.is_ok(),
        "the controllers still run"
    );
}
