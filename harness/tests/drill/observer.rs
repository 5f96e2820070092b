//! The watch-based observer times conditions on the cluster's clock.

use std::time::Duration;

use gameday::clock::{Clock, TimeSource};
use gameday::drill::probe::observer::{FnCondition, GroupKind, Judgement, Observer, WaitOptions};
use gameday::sim::storage::resource::Gvr;
use gameday::sim::storage::store::WriteOptions;
use gameday::sim::{SimCluster, SimOptions};
use serde_json::json;

fn start() -> jiff::Timestamp {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

async fn cluster() -> SimCluster {
    let clock = Clock::simulated(start());
    SimCluster::start(SimOptions::new("observer", clock))
        .await
        .unwrap()
}

fn configmap_exists(
    name: &'static str,
) -> FnCondition<impl FnMut(&gameday::drill::probe::observer::World) -> Judgement + Send> {
    let cm = GroupKind::new("", "ConfigMap");
    FnCondition::new([cm.clone()], move |w| {
        if w.get(&cm, "default", name).is_some() {
            Judgement::Met
        } else {
            Judgement::Pending(format!("ConfigMap default/{name} missing"))
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_is_timed_at_the_write_that_made_it_true() {
    let sim = cluster().await;
    let observer = Observer::new(
        sim.client().await.unwrap(),
        TimeSource::Stamped(std::sync::Arc::new(sim.clone())),
    );
    let writer = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let _busy = sim.clock().sleep(Duration::from_secs(90)).await;
            sim.store()
                .create(
                    &Gvr::core("configmaps"),
                    Some("default"),
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late"}}),
                    &WriteOptions::manager("test"),
                )
                .unwrap();
        })
    };
    let mut cond = configmap_exists("late");
    let seen = observer
        .wait(
            &mut cond,
            WaitOptions {
                what: "the late ConfigMap".into(),
                timeout: Duration::from_secs(600),
                not_before: start(),
                progress: None,
            },
        )
        .await
        .unwrap();
    writer.await.unwrap();
    assert_eq!(
        gameday::clock::duration_between(start(), seen.at),
        Duration::from_secs(90)
    );
    assert!(seen.rv.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_names_what_was_awaited_and_the_last_judgement() {
    let sim = cluster().await;
    let observer = Observer::new(
        sim.client().await.unwrap(),
        TimeSource::Stamped(std::sync::Arc::new(sim.clone())),
    );
    let mut cond = configmap_exists("never");
    let err = observer
        .wait(
            &mut cond,
            WaitOptions {
                what: "the ConfigMap that never comes".into(),
                timeout: Duration::from_secs(300),
                not_before: start(),
                progress: None,
            },
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("timed out after 5m waiting for the ConfigMap that never comes"),
        "{msg}"
    );
    assert!(msg.contains("ConfigMap default/never missing"), "{msg}");
    assert_eq!(
        sim.clock().since(start()),
        Duration::from_secs(300),
        "the timeout ran on simulated time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_already_true_is_clamped_to_not_before() {
    let sim = cluster().await;
    sim.store()
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "early"}}),
            &WriteOptions::manager("test"),
        )
        .unwrap();
    let _ = sim.clock().sleep(Duration::from_secs(10)).await;
    let t0 = sim.clock().now();
    let observer = Observer::new(
        sim.client().await.unwrap(),
        TimeSource::Stamped(std::sync::Arc::new(sim.clone())),
    );
    let mut cond = configmap_exists("early");
    let seen = observer
        .wait(
            &mut cond,
            WaitOptions {
                what: "x".into(),
                timeout: Duration::from_secs(60),
                not_before: t0,
                progress: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(seen.at, t0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kinds_served_later_by_a_crd_are_watched_once_established() {
    let sim = cluster().await;
    let observer = Observer::new(
        sim.client().await.unwrap(),
        TimeSource::Stamped(std::sync::Arc::new(sim.clone())),
    );
    let widget = GroupKind::new("example.com", "Widget");
    let mut cond = FnCondition::new([widget.clone()], {
        let widget = widget.clone();
        move |w| {
            if w.get(&widget, "default", "w1").is_some() {
                Judgement::Met
            } else {
                Judgement::Pending("no widget".into())
            }
        }
    });
    let creator = {
        let sim = sim.clone();
        tokio::spawn(async move {
            let _busy = sim.clock().sleep(Duration::from_secs(5)).await;
            let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": "widgets.example.com"},
                "spec": {"group": "example.com", "scope": "Namespaced",
                    "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                    "versions": [{"name": "v1", "served": true, "storage": true,
                        "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
            sim.store()
                .create(
                    &Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
                    None,
                    crd,
                    &WriteOptions::manager("t"),
                )
                .unwrap();
            drop(_busy);
            let _busy = sim.clock().sleep(Duration::from_secs(5)).await;
            sim.store()
                .create(
                    &Gvr::new("example.com", "v1", "widgets"),
                    Some("default"),
                    json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}}),
                    &WriteOptions::manager("t"),
                )
                .unwrap();
        })
    };
    let seen = observer
        .wait(
            &mut cond,
            WaitOptions {
                what: "a widget".into(),
                timeout: Duration::from_secs(120),
                not_before: start(),
                progress: None,
            },
        )
        .await
        .unwrap();
    creator.await.unwrap();
    assert_eq!(
        gameday::clock::duration_between(start(), seen.at),
        Duration::from_secs(10)
    );
}
