//! Fault hooks: API outage on the same port, injected errors, closed
//! watches, destroy; and simulated time around writes.

use std::time::Duration;

use futures::StreamExt;
use gameday::clock::Clock;
use gameday::sim::storage::store::{EventFilter, GroupResource, WriteOptions};
use gameday::sim::{ErrorRule, Gvr, ObjectRef, SimOptions};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use crate::common::Fixture;

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(json!({"metadata": {"name": name}})).unwrap()
}

#[tokio::test]
async fn api_outage_refuses_connections_then_resumes_on_the_same_port_with_state() {
    let f = Fixture::start().await;
    let api = Api::<ConfigMap>::namespaced(f.client().await, "default");
    api.create(&PostParams::default(), &cm("kept"))
        .await
        .unwrap();
    let port = f.cluster.port();
    f.cluster.stop_api().await;
    assert!(!f.cluster.api_running());
    let refused = tokio::net::TcpStream::connect(("127.0.0.1", port)).await;
    assert_eq!(
        refused.unwrap_err().kind(),
        std::io::ErrorKind::ConnectionRefused
    );
    f.cluster.start_api().await.unwrap();
    assert_eq!(f.cluster.port(), port);
    let api = Api::<ConfigMap>::namespaced(f.client().await, "default");
    assert!(api.get("kept").await.is_ok());
}

#[tokio::test]
async fn injected_errors_have_status_bodies_and_retryable_ones_are_retried() {
    let f = Fixture::start().await;
    let api = Api::<ConfigMap>::namespaced(f.client().await, "default");
    let id = f.cluster.inject_error(ErrorRule::new(
        "/api/v1/namespaces/default/configmaps*",
        500,
    ));
    let err = api.list(&Default::default()).await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 500 && s.reason == "InternalError"),
        "{err}"
    );
    f.cluster.remove_error(id);
    let (code, body) = {
        f.cluster
            .inject_error(ErrorRule::new("/api/v1/nodes", 429).retry_after(1).times(1));
        f.raw("GET", "/api/v1/nodes", None, Vec::new()).await
    };
    assert_eq!(
        (code, body["reason"].as_str()),
        (429, Some("TooManyRequests"))
    );
    assert_eq!(body["details"]["retryAfterSeconds"], 1);
    // kube-rs retries 503 by default: two failures, then success.
    f.cluster
        .inject_error(ErrorRule::new("*/configmaps", 503).times(2));
    assert!(api.list(&Default::default()).await.is_ok());
}

#[tokio::test]
async fn closed_watches_are_resumed_without_a_relist() {
    let f = Fixture::start().await;
    let api = Api::<ConfigMap>::namespaced(f.client().await, "default");
    let mut events = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .unwrap()
            .unwrap()
    };
    assert!(matches!(next().await, Ok(Event::Init)));
    assert!(matches!(next().await, Ok(Event::InitDone)));
    f.cluster.close_watches();
    api.create(&PostParams::default(), &cm("after"))
        .await
        .unwrap();
    match next().await {
        Ok(Event::Apply(o)) => assert_eq!(o.metadata.name.as_deref(), Some("after")),
        other => panic!("expected the event after a re-watch, got {other:?}"),
    }
}

#[tokio::test]
async fn destroy_loses_everything() {
    let f = Fixture::start().await;
    let api = Api::<ConfigMap>::namespaced(f.client().await, "default");
    api.create(&PostParams::default(), &cm("doomed"))
        .await
        .unwrap();
    f.cluster.destroy();
    let store = f.cluster.store();
    assert!(
        store
            .get(&ObjectRef::cluster(Gvr::core("namespaces"), "default"))
            .unwrap_err()
            .is_not_found()
    );
    assert!(api.get("doomed").await.is_err());
}

#[tokio::test]
async fn simulated_time_waits_for_event_handlers_and_revisions_keep_their_time() {
    let start: jiff::Timestamp = "2026-08-01T10:00:00Z".parse().unwrap();
    let clock = Clock::simulated(start);
    let f = Fixture::with(SimOptions::new("virt", clock.clone())).await;
    let store = f.cluster.store().clone();
    let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("", "configmaps")));
    let timer = tokio::spawn({
        let clock = clock.clone();
        async move {
            drop(clock.sleep(Duration::from_secs(60)).await);
        }
    });
    let created = store
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            json!({"metadata": {"name": "t0"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(
        created["metadata"]["creationTimestamp"],
        "2026-08-01T10:00:00Z"
    );
    let delivery = sub.recv().await.unwrap();
    // While the handler holds the event's guard, the 60 s timer cannot fire.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(clock.now(), start);
    drop(delivery);
    timer.await.unwrap();
    assert_eq!(clock.now(), start + jiff::SignedDuration::from_secs(60));
    let later = store
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            json!({"metadata": {"name": "t1"}}),
            &WriteOptions::default(),
        )
        .unwrap();
    let rv = |o: &serde_json::Value| {
        o["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    assert_eq!(f.cluster.revision_time(rv(&created)), Some(start));
    assert_eq!(f.cluster.revision_time(rv(&later)), Some(clock.now()));
    assert_eq!(
        later["metadata"]["creationTimestamp"],
        "2026-08-01T10:01:00Z"
    );
}
