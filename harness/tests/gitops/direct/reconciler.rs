//! gameday's own reconciler: bootstrap, interval, trigger, prune, stop and
//! restart.

use std::time::Duration;

use gameday::gitops::bootstrap::direct::{DirectConfig, DirectReconciler};
use gameday::scenario::model::DirectSettings;
use gameday::sim::Profile;
use gameday::sim::storage::store::Gvr;

use crate::flux::world::{World, configmaps, deployments};

#[tokio::test]
async fn podinfo_with_direct_follows_its_flux_kustomizations() {
    let w = World::new("podinfo", Profile::instant()).await;
    let r = w
        .direct("clusters/staging", Duration::from_secs(60))
        .await
        .expect("direct bootstrap");
    let s = r.current();
    let head = w.head().await;
    assert_eq!(s.last_applied_revision.as_deref(), Some(head.as_str()));
    assert!(s.last_error.is_none());
    assert!(w.exists(&deployments(), "podinfo", "podinfo"));
    assert!(
        w.exists(&Gvr::core("namespaces"), "", "platform")
            || w.tb
                .kubectl(&["get", "ns", "platform"])
                .await
                .contains("platform")
    );
    // The Flux Kustomizations themselves are followed, not applied.
    assert!(
        !s.inventory
            .entries
            .iter()
            .any(|e| e.id.ends_with("_Kustomization"))
    );
    assert!(
        s.inventory
            .entries
            .iter()
            .any(|e| e.id == "podinfo_podinfo_apps_Deployment")
    );
    assert!(s.inventory.entries.iter().any(|e| {
        e.id.ends_with("_apiextensions.k8s.io_CustomResourceDefinition")
    }));
    let d =
        w.tb.kubectl(&[
            "get",
            "deployment",
            "podinfo",
            "-n",
            "podinfo",
            "-o",
            "jsonpath={.metadata.managedFields[*].manager}",
        ])
        .await;
    assert!(d.contains("gameday"), "{d}");
}

#[tokio::test]
async fn shop_with_direct() {
    let w = World::new("shop", Profile::instant()).await;
    let r = w
        .direct("", Duration::from_secs(60))
        .await
        .expect("direct bootstrap");
    assert!(
        r.current().last_changes.created > 20,
        "{:?}",
        r.current().last_changes
    );
    assert!(w.exists(&deployments(), "shop", "frontend"));
    assert!(w.exists(
        &Gvr::new("apps", "v1", "statefulsets"),
        "shop-data",
        "postgres"
    ));
}

#[tokio::test]
async fn drift_is_repaired_on_the_interval_and_on_trigger() {
    let w = World::new("shop", Profile::instant()).await;
    let r = w
        .direct("", Duration::from_secs(120))
        .await
        .expect("direct bootstrap");
    let cm = configmaps();
    let deleted_at = w.delete(&cm, "shop", "shop-config").await;
    w.wait_exists(&cm, "shop", "shop-config", Duration::from_secs(3600))
        .await;
    let took = w.tb.clock().since(deleted_at);
    assert!(
        took > Duration::ZERO && took <= Duration::from_secs(120),
        "{took:?}"
    );

    let clock = w.tb.clock();
    let busy = clock.busy();
    let before = clock.now();
    w.delete(&cm, "shop", "shop-config").await;
    r.trigger();
    w.wait_exists(&cm, "shop", "shop-config", Duration::from_secs(3600))
        .await;
    assert_eq!(clock.since(before), Duration::ZERO);
    drop(busy);
    let s = r.current();
    assert!(s.last_success_at.unwrap() >= before);
    assert!(s.runs >= 3, "{s:?}");
}

#[tokio::test]
async fn removed_files_are_pruned() {
    let w = World::new("shop", Profile::instant()).await;
    let r = w
        .direct("", Duration::from_secs(60))
        .await
        .expect("direct bootstrap");
    assert!(w.exists(&deployments(), "shop", "ads"));
    let before = r.current().runs;
    w.repo
        .delete_file("services/ads.yaml", "Remove ads")
        .await
        .unwrap();
    let run = r.trigger();
    assert!(run > before);
    let s = r
        .wait_applied_since(before, Duration::from_secs(600))
        .await
        .expect("reconciled");
    assert_eq!(
        s.last_applied_revision.as_deref(),
        Some(w.head().await.as_str())
    );
    assert!(!w.exists(&deployments(), "shop", "ads"));
    assert!(s.last_changes.pruned >= 2, "{:?}", s.last_changes);
    assert!(w.exists(&deployments(), "shop", "frontend"));
}

#[tokio::test]
async fn a_stopped_reconciler_repairs_nothing_until_restarted() {
    let w = World::new("shop", Profile::instant()).await;
    let r = w
        .direct("", Duration::from_secs(60))
        .await
        .expect("direct bootstrap");
    let stopped = r.stop().await;
    assert!(!stopped.running);
    let cm = configmaps();
    w.delete(&cm, "shop", "shop-config").await;
    // Ten intervals of simulated time pass: nothing comes back.
    drop(w.tb.clock().sleep(Duration::from_secs(600)).await);
    assert!(!w.exists(&cm, "shop", "shop-config"));
    let config = DirectConfig::from_settings(&DirectSettings {
        interval: Duration::from_secs(60),
        prune: true,
        concurrency: 16,
        namespace: "default".into(),
    });
    let restarted =
        DirectReconciler::start(&w.applier, w.source(""), config, stopped.inventory).unwrap();
    w.wait_exists(&cm, "shop", "shop-config", Duration::from_secs(600))
        .await;
    drop(restarted);
}

#[tokio::test]
async fn direct_builds_followed_kustomizations_like_kustomize_controller() {
    let w = World::new("fluxbuild", Profile::instant()).await;
    let r = w
        .direct("clusters/test", Duration::from_secs(60))
        .await
        .expect("direct bootstrap");
    let s = r.current();
    assert!(s.last_error.is_none(), "{:?}", s.last_error);
    let ids: Vec<&str> = s.inventory.entries.iter().map(|e| e.id.as_str()).collect();
    for id in [
        "apps_prod-web_apps_Deployment",
        "apps_prod-web__Service",
        "apps_worker-v2_apps_Deployment",
        "apps_worker-settings-v2__ConfigMap",
        "widgets_gizmo_example.com_Widget",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let replicas =
        w.tb.kubectl(&[
            "get",
            "deployment",
            "prod-web",
            "-n",
            "apps",
            "-o",
            "jsonpath={.spec.replicas} {.metadata.labels.team}",
        ])
        .await;
    assert_eq!(replicas, "3 storefront", "component and commonMetadata");
}
