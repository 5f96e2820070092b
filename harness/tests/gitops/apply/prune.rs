//! Pruning by inventory.

use gameday::gitops::apply::{ApplyOptions, Inventory, ObjectId, Skip};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::testbed::{Testbed, config_maps, namespace};

#[tokio::test]
async fn objects_gone_from_the_source_are_deleted_and_others_kept() {
    let tb = Testbed::wall().await;
    let mut opts = ApplyOptions::default();
    opts.labels
        .insert("gameday.dev/owner".into(), "test".into());
    let applier = tb.applier(opts).await;
    let mut v1 = vec![namespace("p")];
    v1.extend(config_maps("p", 5));
    let first = applier.apply(v1.clone()).await.check().unwrap();
    let old = first.inventory();
    assert_eq!(old.len(), 6);

    let api: Api<ConfigMap> = Api::namespaced(tb.client().await, "p");
    // cm-00003 opts out of pruning; cm-00004 was taken over (owner label gone).
    api.patch("cm-00003", &PatchParams::apply("someone"), &Patch::Apply(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm-00003", "annotations": {"kustomize.toolkit.fluxcd.io/prune": "disabled"}}})))
        .await
        .unwrap();
    api.patch(
        "cm-00004",
        &PatchParams::default(),
        &Patch::Merge(json!({
        "metadata": {"labels": {"gameday.dev/owner": null}}})),
    )
    .await
    .unwrap();

    let v2: Vec<_> = v1.into_iter().take(3).collect(); // ns, cm-00000, cm-00001
    let second = applier.apply(v2).await.check().unwrap();
    let stale = old.stale(&second.inventory());
    assert_eq!(stale.len(), 3);
    let pruned = applier.prune(&stale).await.check().unwrap();
    assert_eq!(
        pruned.deleted,
        vec![ObjectId::namespaced("", "ConfigMap", "p", "cm-00002")]
    );
    assert_eq!(pruned.change_log(), "ConfigMap/p/cm-00002 deleted\n");
    assert!(pruned.skipped.contains(&(
        ObjectId::namespaced("", "ConfigMap", "p", "cm-00003"),
        Skip::PruneDisabled
    )));
    assert!(pruned.skipped.contains(&(
        ObjectId::namespaced("", "ConfigMap", "p", "cm-00004"),
        Skip::NotOwned
    )));
    let names: Vec<String> = api
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .filter(|n| n.starts_with("cm-"))
        .collect();
    assert_eq!(names, ["cm-00000", "cm-00001", "cm-00003", "cm-00004"]);

    // Pruning again finds nothing left to do.
    let again = applier.prune(&stale).await.check().unwrap();
    assert!(again.deleted.is_empty());
    assert!(again.skipped.iter().any(|(_, s)| *s == Skip::Gone));
}

#[tokio::test]
async fn a_whole_inventory_deletes_namespaces_last() {
    let tb = Testbed::wall().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let mut batch = vec![namespace("gone")];
    batch.extend(config_maps("gone", 2));
    let report = applier.apply(batch).await.check().unwrap();
    let pruned = applier.prune(&report.inventory()).await.check().unwrap();
    let order: Vec<String> = pruned.deleted.iter().map(ToString::to_string).collect();
    assert_eq!(
        order,
        [
            "ConfigMap/gone/cm-00001",
            "ConfigMap/gone/cm-00000",
            "Namespace/gone"
        ]
    );
    // Entries of kinds the cluster no longer serves count as gone.
    let crs = Inventory {
        entries: vec![gameday::gitops::apply::InventoryEntry {
            id: "x_y_example.com_Nothing".into(),
            v: "v1".into(),
        }],
    };
    let r = applier.prune(&crs).await.check().unwrap();
    assert_eq!(r.skipped[0].1, Skip::Gone);
}
