//! kube-rs against the simulator: typed Api, watcher (with a forced 410
//! relist), discovery (legacy and aggregated), await_condition, apply with
//! force, status patches.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
};
use kube::discovery::Discovery;
use kube::runtime::wait::{await_condition, conditions};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use crate::common::{Fixture, fixtures};

fn cm(name: &str, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}),
    )
    .unwrap()
}

async fn namespace(client: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(json!({"metadata": {"name": name}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
}

async fn install_crd(client: &kube::Client) {
    let yaml = std::fs::read_to_string(fixtures().join("kustomization-crd.yaml")).unwrap();
    let crd: CustomResourceDefinition = serde_yaml::from_str(&yaml).unwrap();
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    crds.patch(
        "kustomizations.kustomize.toolkit.fluxcd.io",
        &PatchParams::apply("test"),
        &Patch::Apply(&crd),
    )
    .await
    .unwrap();
    let established = await_condition(
        crds,
        "kustomizations.kustomize.toolkit.fluxcd.io",
        conditions::is_crd_established(),
    );
    tokio::time::timeout(Duration::from_secs(10), established)
        .await
        .expect("established in time")
        .unwrap();
}

#[tokio::test]
async fn typed_crud_and_server_version() {
    let f = Fixture::start().await;
    let c = f.client().await;
    assert_eq!(c.apiserver_version().await.unwrap().minor, "33");
    namespace(&c, "t").await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "t");
    let created = api
        .create(&PostParams::default(), &cm("a", json!({"k": "v"})))
        .await
        .unwrap();
    assert!(created.metadata.uid.is_some());
    let mut got = api.get("a").await.unwrap();
    got.data.as_mut().unwrap().insert("k".into(), "w".into());
    let replaced = api
        .replace("a", &PostParams::default(), &got)
        .await
        .unwrap();
    assert_eq!(replaced.data.unwrap()["k"], "w");
    // The old resourceVersion is now stale.
    let err = api
        .replace("a", &PostParams::default(), &got)
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err}"
    );
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("p{i}"), json!({})))
            .await
            .unwrap();
    }
    let page = api.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(page.items.len(), 3);
    let token = page.metadata.continue_.clone().unwrap();
    let rest = api
        .list(&ListParams::default().limit(100).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 5);
    assert_eq!(
        page.metadata.resource_version,
        rest.metadata.resource_version
    );
    let del = api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(del.is_right(), "immediate deletion answers a Status");
    assert!(api.get_opt("a").await.unwrap().is_none());
}

#[tokio::test]
async fn watcher_sees_init_then_changes_and_relists_after_410() {
    let f = Fixture::start().await;
    let c = f.client().await;
    namespace(&c, "t").await;
    namespace(&c, "other").await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "t");
    api.create(&PostParams::default(), &cm("before", json!({})))
        .await
        .unwrap();
    let mut events = watcher::watcher(api.clone(), watcher::Config::default()).boxed();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("event in time")
            .expect("stream open")
    };
    assert!(matches!(next().await, Ok(Event::Init)));
    assert!(
        matches!(next().await, Ok(Event::InitApply(o)) if o.metadata.name.as_deref() == Some("before"))
    );
    assert!(matches!(next().await, Ok(Event::InitDone)));
    api.create(&PostParams::default(), &cm("during", json!({})))
        .await
        .unwrap();
    assert!(
        matches!(next().await, Ok(Event::Apply(o)) if o.metadata.name.as_deref() == Some("during"))
    );
    api.delete("during", &DeleteParams::default())
        .await
        .unwrap();
    assert!(
        matches!(next().await, Ok(Event::Delete(o)) if o.metadata.name.as_deref() == Some("during"))
    );
    // Compaction makes the watch position too old: an in-stream 410, then a relist.
    f.cluster.compact();
    let mut saw_error = false;
    loop {
        match next().await {
            Err(_) => saw_error = true,
            Ok(Event::Init) => break,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
    assert!(
        saw_error,
        "the 410 surfaces as a watcher error before the relist"
    );
    assert!(
        matches!(next().await, Ok(Event::InitApply(o)) if o.metadata.name.as_deref() == Some("before"))
    );
    assert!(matches!(next().await, Ok(Event::InitDone)));
}

#[tokio::test]
async fn streaming_list_watcher_gets_initial_events_end() {
    let f = Fixture::start().await;
    let c = f.client().await;
    namespace(&c, "t").await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "t");
    api.create(&PostParams::default(), &cm("x", json!({})))
        .await
        .unwrap();
    let mut events = watcher::watcher(api, watcher::Config::default().streaming_lists()).boxed();
    let mut seen = Vec::new();
    while let Ok(Ok(Some(ev))) =
        tokio::time::timeout(Duration::from_secs(10), events.try_next()).await
    {
        let done = matches!(ev, Event::InitDone);
        seen.push(ev);
        if done {
            break;
        }
    }
    assert!(
        matches!(
            seen.as_slice(),
            [Event::Init, Event::InitApply(_), Event::InitDone]
        ),
        "{seen:?}"
    );
}

#[tokio::test]
async fn discovery_legacy_and_aggregated_find_builtins_and_crds() {
    let f = Fixture::start().await;
    let c = f.client().await;
    install_crd(&c).await;
    for d in [
        Discovery::new(c.clone()).run().await.unwrap(),
        Discovery::new(c.clone()).run_aggregated().await.unwrap(),
    ] {
        let gvk = GroupVersionKind::gvk("kustomize.toolkit.fluxcd.io", "v1", "Kustomization");
        let (ar, caps) = d.resolve_gvk(&gvk).expect("CRD kind discovered");
        assert_eq!(ar.plural, "kustomizations");
        assert!(caps.subresources.iter().any(|(s, _)| s.plural == "status"));
        assert!(
            d.resolve_gvk(&GroupVersionKind::gvk("apps", "v1", "Deployment"))
                .is_some()
        );
        assert!(
            d.resolve_gvk(&GroupVersionKind::gvk("", "v1", "ConfigMap"))
                .is_some()
        );
    }
}

#[tokio::test]
async fn dynamic_crud_of_a_flux_kustomization() {
    let f = Fixture::start().await;
    let c = f.client().await;
    namespace(&c, "flux-system").await;
    install_crd(&c).await;
    let d = Discovery::new(c.clone()).run().await.unwrap();
    let (ar, _) = d
        .resolve_gvk(&GroupVersionKind::gvk(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "Kustomization",
        ))
        .unwrap();
    let api = Api::<DynamicObject>::namespaced_with(c.clone(), "flux-system", &ar);
    let obj: DynamicObject = serde_json::from_value(json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
        "metadata": {"name": "flux-system"}, "spec": {"interval": "10m", "path": "./clusters/x", "prune": true,
        "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}})).unwrap();
    api.create(&PostParams::default(), &obj).await.unwrap();
    let got = api.get("flux-system").await.unwrap();
    assert_eq!(got.data["spec"]["path"], "./clusters/x");
    let patched = api
        .patch(
            "flux-system",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["suspend"], true);
    assert_eq!(patched.metadata.generation, Some(2));
    let listed = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    api.delete("flux-system", &DeleteParams::default())
        .await
        .unwrap();
    assert!(api.get_opt("flux-system").await.unwrap().is_none());
}

#[tokio::test]
async fn apply_with_force_and_status_patch_keeps_generation() {
    let f = Fixture::start().await;
    let c = f.client().await;
    namespace(&c, "t").await;
    let api = Api::<Deployment>::namespaced(c.clone(), "t");
    let mut d: Deployment =
        serde_yaml::from_str(&std::fs::read_to_string(fixtures().join("deployment.yaml")).unwrap())
            .unwrap();
    d.metadata.namespace = None;
    let pp = PatchParams::apply("harness").force();
    let created = api.patch("web", &pp, &Patch::Apply(&d)).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    // Another manager takes spec.replicas; a forced apply takes it back.
    api.patch(
        "web",
        &PatchParams::apply("other"),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 7}})),
    )
    .await
    .unwrap_err();
    api.patch(
        "web",
        &PatchParams::apply("other").force(),
        &Patch::Apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"}, "spec": {"replicas": 7}})),
    )
    .await
    .unwrap();
    let conflict = api
        .patch("web", &PatchParams::apply("harness"), &Patch::Apply(&d))
        .await
        .unwrap_err();
    assert!(
        matches!(&conflict, kube::Error::Api(s) if s.code == 409 && s.message.contains("conflict with \"other\"")),
        "{conflict}"
    );
    let updated = api.patch("web", &pp, &Patch::Apply(&d)).await.unwrap();
    assert_eq!(updated.spec.as_ref().unwrap().replicas, Some(2));
    let gen_before = updated.metadata.generation;
    let st = api
        .patch_status(
            "web",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"status": {"replicas": 2, "readyReplicas": 2}, "spec": {"replicas": 99}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(st.status.unwrap().ready_replicas, Some(2));
    assert_eq!(
        st.spec.unwrap().replicas,
        Some(2),
        "a status write changes only .status"
    );
    assert_eq!(st.metadata.generation, gen_before);
}

#[tokio::test]
async fn metadata_only_reads() {
    let f = Fixture::start().await;
    let c = f.client().await;
    namespace(&c, "t").await;
    let api = Api::<ConfigMap>::namespaced(c.clone(), "t");
    api.create(&PostParams::default(), &cm("m", json!({"big": "x"})))
        .await
        .unwrap();
    let meta = api.get_metadata("m").await.unwrap();
    assert_eq!(meta.metadata.name.as_deref(), Some("m"));
    let list = api.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
}
