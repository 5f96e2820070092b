//! Ordering, outcomes and concurrency of one apply.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use gameday::gitops::apply::{Action, ApplyOptions, Stage};
use kube::api::{Api, DynamicObject};
use kube::core::discovery::ApiResource;
use serde_json::json;

use crate::testbed::{Testbed, config_maps, manifests, namespace};

const WIDGETS: &str = r#"
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: shop}
spec: {size: 3}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data: {color: blue}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: widget-reader}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get]}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
    subresources: {status: {}}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"#;

#[tokio::test]
async fn a_crd_and_its_custom_resource_in_one_batch_apply_in_order() {
    let tb = Testbed::wall().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let report = applier.apply(manifests(WIDGETS)).await;
    let report = report.check().expect("every object applies");
    let order: Vec<(String, Option<Stage>)> = report
        .outcomes
        .iter()
        .map(|o| (o.id().to_string(), o.stage))
        .collect();
    assert_eq!(
        order,
        vec![
            ("Namespace/shop".into(), Some(Stage::Definitions)),
            (
                "CustomResourceDefinition/widgets.example.com".into(),
                Some(Stage::Definitions)
            ),
            (
                "ClusterRole/widget-reader".into(),
                Some(Stage::ClusterScoped)
            ),
            ("ConfigMap/shop/settings".into(), Some(Stage::Namespaced)),
            ("Widget/shop/w1".into(), Some(Stage::Namespaced)),
        ]
    );
    assert!(report.outcomes.iter().all(|o| o.action == Action::Created));
    let widgets: Api<DynamicObject> = Api::namespaced_with(
        tb.client().await,
        "shop",
        &ApiResource {
            group: "example.com".into(),
            version: "v1".into(),
            api_version: "example.com/v1".into(),
            kind: "Widget".into(),
            plural: "widgets".into(),
        },
    );
    let w = widgets.get("w1").await.expect("the custom resource exists");
    assert_eq!(w.data["spec"]["size"], 3);
    let inventory = report.inventory();
    assert_eq!(inventory.len(), 5);
    assert!(
        inventory
            .entries
            .iter()
            .any(|e| e.id == "shop_w1_example.com_Widget" && e.v == "v1")
    );
    assert!(inventory.entries.iter().any(|e| e.id == "_shop__Namespace"));
}

#[tokio::test]
async fn outcomes_say_created_unchanged_and_configured() {
    let tb = Testbed::wall().await;
    let applier = tb.applier(ApplyOptions::default()).await;
    let mut batch = vec![namespace("o")];
    batch.extend(config_maps("o", 8));
    let first = applier.apply(batch.clone()).await.check().unwrap();
    assert_eq!(first.count("created"), 9);
    let again = applier.apply(batch.clone()).await.check().unwrap();
    assert_eq!(again.count("unchanged"), 9, "{:?}", again.outcomes);
    batch[3].object["data"]["index"] = json!("changed");
    let third = applier.apply(batch).await.check().unwrap();
    assert_eq!(third.count("configured"), 1);
    assert_eq!(third.count("unchanged"), 8);
    let configured: Vec<String> = third
        .outcomes
        .iter()
        .filter(|o| o.action == Action::Configured)
        .map(|o| o.to_string())
        .collect();
    assert_eq!(configured, ["ConfigMap/o/cm-00002 configured"]);
    // Few objects per namespace are read one by one rather than listed.
    let few = applier
        .apply(vec![namespace("o"), config_maps("o", 1).remove(0)])
        .await;
    assert_eq!(few.count("unchanged"), 2);
    assert!(first.took >= first.stages.iter().map(|s| s.took).max().unwrap());
}

/// With ownership labels, the "before" of each object comes from a list of
/// the objects carrying them; objects that exist without them (made by
/// hand, or by another applier) are not in that list, and the apply that
/// labels them is `configured`, never `created`.
#[tokio::test]
async fn with_owner_labels_existing_unlabelled_objects_are_configured_not_created() {
    let tb = Testbed::wall().await;
    // Eight ConfigMaps exist, applied by someone else without the labels.
    let plain = tb.applier(ApplyOptions::manager("by-hand")).await;
    let mut batch = vec![namespace("l")];
    batch.extend(config_maps("l", 8));
    plain.apply(batch.clone()).await.check().unwrap();
    // Two more are new.
    let mut more = config_maps("l", 10);
    batch.extend(more.drain(8..));
    let mut opts = ApplyOptions::manager("kustomize-controller");
    opts.labels
        .insert("kustomize.toolkit.fluxcd.io/name".into(), "apps".into());
    let owner = tb.applier(opts).await;
    let first = owner.apply(batch.clone()).await.check().unwrap();
    assert_eq!(first.count("created"), 2, "{:?}", first.outcomes);
    assert_eq!(first.count("configured"), 9, "{:?}", first.outcomes);
    // Now they carry the labels: listed, and unchanged.
    let again = owner.apply(batch).await.check().unwrap();
    assert_eq!(again.count("unchanged"), 11, "{:?}", again.outcomes);
}

#[tokio::test]
async fn the_field_manager_and_owner_labels_are_applied() {
    let tb = Testbed::wall().await;
    let mut opts = ApplyOptions::manager("kustomize-controller");
    opts.labels
        .insert("kustomize.toolkit.fluxcd.io/name".into(), "apps".into());
    let applier = tb.applier(opts).await;
    applier
        .apply(vec![namespace("m"), config_maps("m", 1).remove(0)])
        .await
        .check()
        .unwrap();
    let out = tb
        .kubectl(&[
            "get",
            "configmap",
            "cm-00000",
            "-n",
            "m",
            "-o",
            "json",
            "--show-managed-fields",
        ])
        .await;
    let cm: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        cm["metadata"]["labels"]["kustomize.toolkit.fluxcd.io/name"],
        "apps"
    );
    let managers: Vec<&str> = cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert!(managers.contains(&"kustomize-controller"), "{managers:?}");
}

#[tokio::test]
async fn with_concurrency_one_objects_are_written_in_apply_order() {
    let tb = Testbed::wall().await;
    let applier = tb
        .applier(ApplyOptions {
            concurrency: 1,
            ..ApplyOptions::default()
        })
        .await;
    let mut batch = config_maps("seq", 12);
    batch.reverse();
    batch.push(namespace("seq"));
    applier.apply(batch).await.check().unwrap();
    let api: Api<k8s_openapi::api::core::v1::ConfigMap> = Api::namespaced(tb.client().await, "seq");
    let list = api.list(&Default::default()).await.unwrap();
    let versions: Vec<u64> = list
        .items
        .iter()
        .map(|c| {
            c.metadata
                .resource_version
                .as_ref()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // Items are listed by name; sequential writes in name order give
    // increasing revisions.
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}

/// A TCP relay in front of the API server that counts how many
/// connections are open at once (HTTP/1.1: one per request in flight).
async fn counting_relay(target: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let open = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (open2, max2) = (open.clone(), max.clone());
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            let now = open2.fetch_add(1, Ordering::SeqCst) + 1;
            max2.fetch_max(now, Ordering::SeqCst);
            let open = open2.clone();
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (port, max)
}

#[tokio::test]
async fn concurrency_is_bounded() {
    let tb = Testbed::wall().await;
    let (port, max_open) = counting_relay(tb.cluster.port()).await;
    let yaml = tb.cluster.kubeconfig_yaml().replace(
        &format!("127.0.0.1:{}", tb.cluster.port()),
        &format!("127.0.0.1:{port}"),
    );
    let kc = kube::config::Kubeconfig::from_yaml(&yaml).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    let applier = gameday::gitops::apply::Applier::new(
        client,
        tb.clock(),
        ApplyOptions {
            concurrency: 3,
            ..ApplyOptions::default()
        },
    );
    let mut batch = vec![namespace("c")];
    batch.extend(config_maps("c", 60));
    let report = applier.apply(batch).await.check().unwrap();
    assert_eq!(report.count("created"), 61);
    let seen = max_open.load(Ordering::SeqCst);
    assert!(
        (1..=3).contains(&seen),
        "{seen} connections were open at once"
    );
}
