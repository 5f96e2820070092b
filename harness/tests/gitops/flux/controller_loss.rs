//! controller-loss: deleting `flux-system` stops reconciliation; bootstrapping
//! again brings it back.

use std::time::Duration;

use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;

use super::world::{World, configmaps};

#[tokio::test]
async fn deleting_flux_system_stops_reconciliation_and_rebootstrap_restores_it() {
    let w = World::new("podinfo", Profile::instant()).await;
    w.bootstrap("clusters/staging").await.expect("bootstrap");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
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

    // The fault: the whole namespace goes (kubectl waits until it is gone).
    w.tb.kubectl(&["delete", "namespace", "flux-system", "--timeout=120s"])
        .await;
    assert!(!w.exists(&Gvr::core("namespaces"), "", "flux-system"));
    assert!(
        !w.tb
            .kubectl(&["get", "namespaces"])
            .await
            .contains("flux-system")
    );
    // What Flux applied stays: the workloads are not garbage-collected.
    assert!(w.exists(&Gvr::new("apps", "v1", "deployments"), "podinfo", "podinfo"));

    // Drift is no longer repaired, however long we wait.
    w.delete(&cm, "podinfo", &name).await;
    drop(w.tb.clock().sleep(Duration::from_secs(3 * 3600)).await);
    assert!(
        !w.exists(&cm, "podinfo", &name),
        "nothing reconciles without the controllers"
    );

    // Recovery: bootstrap again.
    w.bootstrap("clusters/staging").await.expect("re-bootstrap");
    w.wait_kustomizations(
        &["flux-system", "infrastructure", "apps"],
        Duration::from_secs(600),
    )
    .await;
    assert!(w.exists(&cm, "podinfo", &name), "the lost object is back");
}
