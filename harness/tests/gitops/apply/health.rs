//! Health waits: watch-based, timed on the cluster's clock, with Flux's
//! messages.

use std::time::Duration;

use gameday::gitops::apply::{ApplyOptions, Error, ObjectId, Versioned};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::discovery::ApiResource;
use serde_json::json;

use crate::testbed::{Testbed, manifests};

const WIDGET: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - {name: v1, served: true, storage: true, subresources: {status: {}},
     schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
---
apiVersion: v1
kind: Namespace
metadata: {name: h}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: h}
"#;

fn widget() -> Versioned {
    Versioned {
        id: ObjectId::namespaced("example.com", "Widget", "h", "w"),
        version: "v1".into(),
    }
}

async fn set_ready(tb: &Testbed, status: &str, reason: &str) {
    let api: Api<DynamicObject> = Api::namespaced_with(
        tb.client().await,
        "h",
        &ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
        },
    );
    api.patch_status(
        "w",
        &PatchParams::default(),
        &Patch::Merge(json!({"status": {"observedGeneration": 1, "conditions": [
            {"type": "Ready", "status": status, "reason": reason, "message": format!("widget is {reason}"),
             "lastTransitionTime": "2026-08-01T10:00:00Z"}]}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_wait_ends_when_the_object_becomes_ready() {
    let tb = Testbed::simulated().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    applier.apply(manifests(WIDGET)).await.check().unwrap();
    set_ready(&tb, "Unknown", "Progressing").await;
    // Time stands still until the widget is ready: the wait needs no
    // simulated time, only the watch event.
    let busy = tb.clock().busy();
    let waiter = tokio::spawn({
        let applier = applier.clone();
        async move {
            applier
                .wait_healthy(&[widget()], Duration::from_secs(60))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        !waiter.is_finished(),
        "a Ready=Unknown widget is not healthy"
    );
    set_ready(&tb, "True", "Succeeded").await;
    let report = waiter.await.unwrap().expect("healthy");
    drop(busy);
    assert_eq!(report.objects, 1);
    assert_eq!(report.took, Duration::ZERO, "no simulated time passed");
}

#[tokio::test]
async fn a_timeout_names_every_pending_object_in_flux_words() {
    let tb = Testbed::simulated().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    applier.apply(manifests(WIDGET)).await.check().unwrap();
    set_ready(&tb, "Unknown", "Progressing").await;
    let missing = Versioned {
        id: ObjectId::namespaced("apps", "Deployment", "h", "absent"),
        version: "v1".into(),
    };
    let before = tb.clock().now();
    let err = applier
        .wait_healthy(&[widget(), missing], Duration::from_secs(45))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::HealthTimeout { .. }), "{err}");
    assert_eq!(
        err.flux_health_message().unwrap(),
        "timeout waiting for: [Deployment/h/absent status: 'NotFound', Widget/h/w status: 'InProgress']"
    );
    let text = err.to_string();
    assert!(text.contains("after 45s"), "{text}");
    assert!(
        text.contains("Widget/h/w: Ready=Unknown (Progressing: widget is Progressing)"),
        "{text}"
    );
    assert!(
        text.contains("Deployment/h/absent: the object does not exist"),
        "{text}"
    );
    assert_eq!(
        tb.clock().since(before),
        Duration::from_secs(45),
        "timed on the cluster's clock"
    );
}

#[tokio::test]
async fn a_failed_object_ends_the_wait_early() {
    let tb = Testbed::simulated().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    applier.apply(manifests(WIDGET)).await.check().unwrap();
    set_ready(&tb, "False", "Broken").await;
    let before = tb.clock().now();
    let err = applier
        .wait_healthy(&[widget()], Duration::from_secs(600))
        .await
        .unwrap_err();
    assert_eq!(
        err.flux_health_message().unwrap(),
        "failed early due to stalled resources: [Widget/h/w status: 'Failed']"
    );
    assert!(tb.clock().since(before) < Duration::from_secs(600));
    // Patiently, the same object is waited for until the timeout.
    let err = applier
        .wait_healthy_patiently(&[widget()], Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::HealthTimeout { .. }));
}

#[tokio::test]
async fn an_unknown_kind_cannot_be_waited_for() {
    let tb = Testbed::simulated().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let ghost = Versioned {
        id: ObjectId::namespaced("example.com", "Ghost", "h", "g"),
        version: "v1".into(),
    };
    let err = applier
        .wait_healthy(&[ghost], Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot check the health of Ghost/h/g"),
        "{err}"
    );
}
