//! The plain-YAML shop repository bootstrapped with Flux.

use std::time::Duration;

use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;

use super::world::{World, deployments, ready};

#[tokio::test]
async fn shop_bootstraps_with_flux_from_the_repository_root() {
    let w = World::new("shop", Profile::instant()).await;
    w.bootstrap("").await.expect("bootstrap");
    w.wait_kustomizations(&["flux-system"], Duration::from_secs(600))
        .await;
    let root = w.kustomization("flux-system").await;
    assert_eq!(root["spec"]["path"], "./");
    assert_eq!(ready(&root).0, "True");
    assert!(w.exists(&deployments(), "shop", "frontend"));
    assert!(w.exists(
        &Gvr::new("apps", "v1", "statefulsets"),
        "shop-data",
        "postgres"
    ));
    assert!(w.exists(
        &Gvr::new("networking.k8s.io", "v1", "ingresses"),
        "shop",
        "frontend"
    ));
    // The CI workflow under .github/ is not a manifest and is not applied.
    let entries = root["status"]["inventory"]["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["id"] == "shop_frontend_apps_Deployment"),
        "{entries:?}"
    );
    assert!(
        entries
            .iter()
            .all(|e| !e["id"].as_str().unwrap().contains("workflow"))
    );
}
