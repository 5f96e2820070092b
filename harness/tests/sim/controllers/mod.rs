//! The simulated cluster's behaviour: workloads, the image registry, node
//! loss, determinism of simulated durations, and `kubectl`/kube-rs seeing
//! rollouts as on a real cluster.

mod clients;
mod determinism;
mod events;
mod images;
mod node_loss;
mod workloads;

use std::sync::Arc;
use std::time::Duration;

use gameday::clock::Clock;
use gameday::sim::Profile;
use gameday::sim::storage::store::{EventFilter, WriteOptions};
use gameday::sim::{GroupResource, Gvr, ObjectRef, SimCluster, SimOptions, Store};
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::common::Fixture;

/// The simulated start of every virtual-clock test.
pub fn epoch() -> Timestamp {
    "2026-03-01T09:00:00Z".parse().unwrap()
}

/// A cluster on a virtual clock (plain HTTP: no TLS needed for
/// in-process tests).
pub async fn virtual_cluster(profile: Profile, nodes: usize, seed: u64) -> SimCluster {
    SimCluster::start(SimOptions {
        tls: false,
        profile,
        nodes,
        seed,
        ..SimOptions::new("sim", Clock::simulated(epoch()))
    })
    .await
    .expect("cluster starts")
}

/// A cluster with kubeconfig for kubectl/kube-rs, on `clock`.
pub async fn fixture(profile: Profile, nodes: usize, clock: Clock) -> Fixture {
    Fixture::with(SimOptions {
        profile,
        nodes,
        seed: 7,
        ..SimOptions::new("sim", clock)
    })
    .await
}

pub fn deployments() -> Gvr {
    Gvr::new("apps", "v1", "deployments")
}

pub fn pods() -> Gvr {
    Gvr::core("pods")
}

/// Waits until every node is Ready; returns the simulated time.
pub async fn nodes_ready(c: &SimCluster) -> Timestamp {
    let s = c.store();
    let names: Vec<String> = s
        .list(&Gvr::core("nodes"), None, &Default::default())
        .unwrap()
        .items
        .iter()
        .map(|n| n["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    let mut at = s.clock().now();
    for n in names {
        let (_, t) = wait_for(s, &ObjectRef::cluster(Gvr::core("nodes"), &n), |n| {
            cond(n, "Ready").is_some_and(|c| c["status"] == "True")
        })
        .await;
        at = at.max(t);
    }
    at
}

/// Creates namespace `ns`.
pub fn namespace(store: &Store, ns: &str) {
    store
        .create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": ns}}),
            &WriteOptions::manager("test"),
        )
        .expect("namespace created");
}

/// A Deployment manifest.
pub fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": image,
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "initialDelaySeconds": 5, "periodSeconds": 10}}]},
            },
        },
    })
}

/// Creates an object of `gvr` in `ns`.
pub fn create(store: &Store, gvr: &Gvr, ns: &str, obj: Value) -> Arc<Value> {
    store
        .create(gvr, Some(ns), obj, &WriteOptions::manager("test"))
        .expect("object created")
}

/// Waits (at most 20 s of wall time) until the object satisfies `pred`;
/// returns it and the simulated time at which it first did.
pub async fn wait_for(
    store: &Store,
    r: &ObjectRef,
    pred: impl Fn(&Value) -> bool,
) -> (Arc<Value>, Timestamp) {
    let mut sub = store.subscribe(EventFilter::resource(r.gvr.group_resource()));
    if let Ok(o) = store.get(r)
        && pred(&o)
    {
        return (o, store.clock().now());
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let d = tokio::time::timeout_at(deadline, sub.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "{r} never satisfied the condition; last seen: {}",
                    store
                        .get(r)
                        .map(|o| serde_json::to_string_pretty(&*o).unwrap())
                        .unwrap_or_else(|e| e.to_string())
                )
            })
            .expect("store alive");
        let o = &d.event.object;
        let same = o["metadata"]["name"] == r.name.as_str()
            && o["metadata"]["namespace"].as_str() == r.namespace.as_deref();
        if same && d.event.kind != gameday::sim::storage::store::EventType::Deleted && pred(o) {
            return (o.clone(), store.clock().now());
        }
    }
}

/// Waits until `pred` holds for the list of pods in `ns`.
pub async fn wait_pods(
    store: &Store,
    ns: &str,
    pred: impl Fn(&[Arc<Value>]) -> bool,
) -> (Vec<Arc<Value>>, Timestamp) {
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("", "pods")));
    let list = || {
        store
            .list(&pods(), Some(ns), &Default::default())
            .expect("list")
            .items
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    // Each delivery is held while the list is checked (the clock cannot
    // move between the event and the time we report), then dropped before
    // waiting for the next one (or the clock could never move at all).
    let mut held = None;
    loop {
        let now = list();
        if pred(&now) {
            return (now, store.clock().now());
        }
        drop(held.take());
        held = tokio::time::timeout_at(deadline, sub.recv())
            .await
            .unwrap_or_else(|_| {
                let summary: Vec<String> = list()
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {} {}",
                            p["metadata"]["name"], p["spec"]["nodeName"], p["status"]
                        )
                    })
                    .collect();
                panic!("pods in {ns} never satisfied the condition: {summary:#?}")
            });
    }
}

/// Records every event of `resource` from now on (a background task that
/// drains the subscription at once, so the virtual clock is not held).
pub fn record(store: &Store, resource: GroupResource) -> Recorder {
    let mut sub = store.subscribe(EventFilter::resource(resource));
    let events: Recorder = Arc::default();
    let sink = events.clone();
    tokio::spawn(async move {
        while let Some(d) = sub.recv().await {
            sink.lock()
                .unwrap()
                .push((d.event.kind, d.event.object.clone(), d.event.revision));
        }
    });
    events
}

/// Events recorded by [`record`].
pub type Recorder =
    Arc<std::sync::Mutex<Vec<(gameday::sim::storage::store::EventType, Arc<Value>, u64)>>>;

/// The status of condition `type_`.
pub fn cond<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)
}

/// `Available=True` and `Progressing=True/NewReplicaSetAvailable`.
pub fn rolled_out(d: &Value) -> bool {
    d["status"]["observedGeneration"] == d["metadata"]["generation"]
        && cond(d, "Available").is_some_and(|c| c["status"] == "True")
        && cond(d, "Progressing")
            .is_some_and(|c| c["status"] == "True" && c["reason"] == "NewReplicaSetAvailable")
}

/// Simulated time from `a` to `b`.
pub fn between(a: Timestamp, b: Timestamp) -> Duration {
    gameday::clock::duration_between(a, b)
}
