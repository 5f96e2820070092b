//! Prune: a file removed from the repository takes its objects with it.

use std::time::Duration;

use gameday::sim::Profile;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::world::{World, configmaps, deployments, git_repositories};

#[tokio::test]
async fn a_removed_file_is_pruned_and_the_rest_untouched() {
    let w = World::new("shop", Profile::instant()).await;
    w.bootstrap("").await.expect("bootstrap");
    w.wait_kustomizations(&["flux-system"], Duration::from_secs(600))
        .await;
    assert!(w.exists(&deployments(), "shop", "ads"));
    let store = w.tb.cluster.store().clone();
    let get = |gvr, name: &str| {
        store
            .get(&gameday::sim::storage::store::ObjectRef::namespaced(
                gvr, "shop", name,
            ))
            .unwrap()
    };
    let config_rv = get(configmaps(), "shop-config")["metadata"]["resourceVersion"].clone();
    let frontend_generation = get(deployments(), "frontend")["metadata"]["generation"].clone();

    w.repo
        .delete_file("services/ads.yaml", "Remove the ads service")
        .await
        .expect("commit");
    // Ask the source to fetch now (as `flux reconcile source git`).
    let api: Api<DynamicObject> =
        Api::namespaced_with(w.tb.client().await, "flux-system", &git_repositories());
    api.patch(
        "flux-system",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": "2026-08-01T10:05:00Z"}}})),
    )
    .await
    .unwrap();
    w.wait_kustomizations(&["flux-system"], Duration::from_secs(600))
        .await;
    assert!(
        !w.exists(&deployments(), "shop", "ads"),
        "the ads Deployment was pruned"
    );
    assert!(
        !w.exists(
            &gameday::sim::storage::store::Gvr::core("services"),
            "shop",
            "ads"
        ),
        "the ads Service was pruned"
    );
    // Other objects untouched: not rewritten (a ConfigMap keeps its
    // version), not changed (a Deployment keeps its generation).
    assert_eq!(
        get(configmaps(), "shop-config")["metadata"]["resourceVersion"],
        config_rv
    );
    assert_eq!(
        get(deployments(), "frontend")["metadata"]["generation"],
        frontend_generation
    );
    let inventory = w.kustomization("flux-system").await["status"]["inventory"]["entries"].clone();
    assert!(
        !inventory
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == "shop_ads_apps_Deployment")
    );
}
