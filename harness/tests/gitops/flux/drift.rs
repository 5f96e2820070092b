//! Drift: an object deleted by hand comes back on the next interval, and at
//! once on `reconcile.fluxcd.io/requestedAt`.

use std::time::Duration;

use gameday::sim::Profile;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::world::{World, configmaps, kustomizations};

#[tokio::test]
async fn a_deleted_object_comes_back_on_the_interval_and_on_request() {
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(&["apps"], Duration::from_secs(600))
        .await;
    let cm = configmaps();
    let name =
        w.tb.cluster
            .store()
            .list(&cm, Some("podinfo"), &Default::default())
            .unwrap()
            .items
            .first()
            .and_then(|c| c["metadata"]["name"].as_str().map(str::to_owned))
            .expect("podinfo has a ConfigMap");

    // On the interval: `apps` reconciles every 10 minutes.
    let deleted_at = w.delete(&cm, "podinfo", &name).await;
    w.wait_exists(&cm, "podinfo", &name, Duration::from_secs(3600))
        .await;
    let took = w.tb.clock().since(deleted_at);
    assert!(
        took > Duration::ZERO && took <= Duration::from_secs(600),
        "came back after {took:?} of simulated time"
    );

    // On request: back without waiting for the interval.
    let clock = w.tb.clock();
    let busy = clock.busy();
    let before = clock.now();
    w.delete(&cm, "podinfo", &name).await;
    let api: Api<DynamicObject> =
        Api::namespaced_with(w.tb.client().await, "flux-system", &kustomizations());
    api.patch(
        "apps",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "now-1"}}}),
        ),
    )
    .await
    .unwrap();
    w.wait_exists(&cm, "podinfo", &name, Duration::from_secs(3600))
        .await;
    assert_eq!(
        clock.since(before),
        Duration::ZERO,
        "no simulated time passed"
    );
    drop(busy);
    let apps = w.kustomization("apps").await;
    assert_eq!(apps["status"]["lastHandledReconcileAt"], "now-1");
}
