//! Unit tests of the store's in-process API.

use serde_json::{Value, json};

use super::*;
use crate::sim::storage::kinds::Registry;
use crate::sim::storage::status::Reason;

fn store() -> Store {
    let s = Store::new(
        Registry::with_builtins(),
        Clock::wall(),
        StoreOptions::default(),
    );
    for ns in ["default", "kube-system"] {
        s.create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": ns}}),
            &WriteOptions::default(),
        )
        .unwrap();
    }
    s
}

fn cm(name: &str, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data})
}

fn cm_ref(name: &str) -> ObjectRef {
    ObjectRef::namespaced(Gvr::core("configmaps"), "default", name)
}

#[test]
fn create_sets_server_fields_and_revisions_increase() {
    let s = store();
    let a = s
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            cm("a", json!({"k": "v"})),
            &WriteOptions::manager("t"),
        )
        .unwrap();
    let b = s
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            cm("b", json!({})),
            &WriteOptions::default(),
        )
        .unwrap();
    assert_eq!(a["metadata"]["generation"], 1);
    assert!(a["metadata"]["uid"].as_str().unwrap().len() == 36);
    let (ra, rb) = (meta::rv_of(&a), meta::rv_of(&b));
    assert!(rb > ra);
    assert_eq!(s.revision(), rb);
    assert_eq!(a["metadata"]["managedFields"][0]["manager"], "t");
    let e = s
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            cm("a", json!({})),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!((e.code, e.reason), (409, Reason::AlreadyExists));
}

#[test]
fn update_with_stale_rv_conflicts_and_noop_keeps_rv() {
    let s = store();
    let a = s
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            cm("a", json!({"k": "1"})),
            &WriteOptions::default(),
        )
        .unwrap();
    let mut body = (*a).clone();
    body["data"]["k"] = json!("2");
    let b = s
        .update(&cm_ref("a"), body.clone(), &WriteOptions::default())
        .unwrap();
    assert_ne!(
        a["metadata"]["resourceVersion"],
        b["metadata"]["resourceVersion"]
    );
    let e = s
        .update(&cm_ref("a"), body, &WriteOptions::default())
        .unwrap_err();
    assert_eq!(e.code, 409);
    let same = s
        .update(&cm_ref("a"), (*b).clone(), &WriteOptions::default())
        .unwrap();
    assert_eq!(
        same["metadata"]["resourceVersion"],
        b["metadata"]["resourceVersion"]
    );
}

#[test]
fn status_split_and_generation() {
    let s = store();
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {}}, "status": {"replicas": 9}});
    let gvr = Gvr::new("apps", "v1", "deployments");
    let r = ObjectRef::namespaced(gvr.clone(), "default", "d");
    let created = s
        .create(&gvr, Some("default"), d, &WriteOptions::default())
        .unwrap();
    assert!(
        created.get("status").is_none(),
        "status is dropped on create"
    );
    assert_eq!(created["spec"]["replicas"], 1, "replicas defaulted");
    let st = s
        .mutate(&r, true, &WriteOptions::manager("ctl"), |o| {
            o["status"] = json!({"replicas": 1});
            Ok(())
        })
        .unwrap();
    assert_eq!(st["metadata"]["generation"], 1);
    assert_eq!(st["status"]["replicas"], 1);
    let main = s
        .mutate(&r, false, &WriteOptions::default(), |o| {
            o["spec"]["replicas"] = json!(3);
            o["status"] = json!({"replicas": 100});
            Ok(())
        })
        .unwrap();
    assert_eq!(main["metadata"]["generation"], 2);
    assert_eq!(main["status"]["replicas"], 1, "main writes keep status");
}

#[test]
fn finalizers_hold_deletion_until_removed() {
    let s = store();
    let mut body = cm("f", json!({}));
    body["metadata"]["finalizers"] = json!(["x/y"]);
    s.create(
        &Gvr::core("configmaps"),
        Some("default"),
        body,
        &WriteOptions::default(),
    )
    .unwrap();
    let d = s.delete(&cm_ref("f"), &DeleteOptions::default()).unwrap();
    let Deleted::Pending(obj) = d else {
        panic!("expected pending")
    };
    assert!(obj["metadata"]["deletionTimestamp"].is_string());
    let e = s
        .mutate(&cm_ref("f"), false, &WriteOptions::default(), |o| {
            o["metadata"]["finalizers"] = json!(["x/y", "new"]);
            Ok(())
        })
        .unwrap_err();
    assert_eq!(e.code, 422);
    s.mutate(&cm_ref("f"), false, &WriteOptions::default(), |o| {
        o["metadata"]["finalizers"] = json!([]);
        Ok(())
    })
    .unwrap();
    assert!(s.get(&cm_ref("f")).unwrap_err().is_not_found());
}

#[tokio::test]
async fn subscribers_get_every_write_with_busy_guards() {
    let s = store();
    let mut sub = s.subscribe(EventFilter::resource(GroupResource::new("", "configmaps")));
    s.create(
        &Gvr::core("configmaps"),
        Some("default"),
        cm("a", json!({})),
        &WriteOptions::default(),
    )
    .unwrap();
    s.delete(&cm_ref("a"), &DeleteOptions::default()).unwrap();
    let a = sub.recv().await.unwrap();
    let d = sub.recv().await.unwrap();
    assert_eq!(a.event.kind, EventType::Added);
    assert_eq!(d.event.kind, EventType::Deleted);
    assert!(d.event.revision > a.event.revision);
    assert_eq!(meta::rv_of(&d.event.object), d.event.revision);
}

#[test]
fn apply_creates_then_removes_dropped_keys() {
    let s = store();
    let r = cm_ref("ap");
    let one = s
        .patch(
            &r,
            &Patch::Apply(cm("ap", json!({"a": "1", "b": "2"}))),
            &PatchOptions {
                manager: "kubectl".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert!(one.created);
    let two = s
        .apply(&r, cm("ap", json!({"a": "1"})), "kubectl", false)
        .unwrap();
    assert_eq!(two["data"], json!({"a": "1"}));
    let e = s
        .patch(
            &r,
            &Patch::Apply(cm("ap", json!({}))),
            &PatchOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code, 422);
}

#[test]
fn namespaces_missing_or_terminating_refuse_creates() {
    let s = store();
    let e = s
        .create(
            &Gvr::core("configmaps"),
            Some("nope"),
            cm("a", json!({})),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "namespaces \"nope\" not found")
    );
    s.create(
        &Gvr::core("namespaces"),
        None,
        json!({"metadata": {"name": "t"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let d = s
        .delete(
            &ObjectRef::cluster(Gvr::core("namespaces"), "t"),
            &DeleteOptions::default(),
        )
        .unwrap();
    assert!(matches!(d, Deleted::Pending(_)));
    let e = s
        .create(
            &Gvr::core("configmaps"),
            Some("t"),
            cm("a", json!({})),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code, 403);
    let e = s
        .delete(
            &ObjectRef::cluster(Gvr::core("namespaces"), "default"),
            &DeleteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(e.code, 403);
    s.finalize_namespace("t", &[]).unwrap();
    assert!(
        s.get(&ObjectRef::cluster(Gvr::core("namespaces"), "t"))
            .unwrap_err()
            .is_not_found()
    );
}

#[test]
fn crd_registers_and_unregisters_its_type() {
    let s = store();
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                 "versions": [{"name": "v1", "served": true, "storage": true}]}});
    let gvr = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
    s.create(&gvr, None, crd, &WriteOptions::default()).unwrap();
    let w = Gvr::new("example.com", "v1", "widgets");
    s.create(
        &w,
        Some("default"),
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}}),
        &WriteOptions::default(),
    )
    .unwrap();
    let r = ObjectRef::cluster(gvr, "widgets.example.com");
    assert!(matches!(
        s.delete(&r, &DeleteOptions::default()).unwrap(),
        Deleted::Pending(_)
    ));
    s.delete(
        &ObjectRef::namespaced(w.clone(), "default", "x"),
        &DeleteOptions::default(),
    )
    .unwrap();
    s.mutate(&r, false, &WriteOptions::default(), |o| {
        o["metadata"]["finalizers"] = json!([]);
        Ok(())
    })
    .unwrap();
    assert!(s.registry().resolve(&w).is_none());
}

#[test]
fn revision_time_follows_the_clock() {
    let s = store();
    let rev = s.revision();
    assert!(s.revision_time(rev).is_some());
    assert!(s.revision_time(rev + 10).is_none());
}

#[test]
fn odd_shapes_never_panic() {
    let s = store();
    s.create(
        &Gvr::core("namespaces"),
        None,
        json!({"metadata": {"name": "odd"}, "spec": "x", "status": 7}),
        &WriteOptions::default(),
    )
    .unwrap();
    let r = ObjectRef::cluster(Gvr::core("namespaces"), "odd");
    s.update_status(
        &r,
        json!({"metadata": {"name": "odd"}, "status": "weird"}),
        &WriteOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        s.delete(&r, &DeleteOptions::default()).unwrap(),
        Deleted::Pending(_)
    ));
    let e = s
        .create(
            &Gvr::core("configmaps"),
            Some("default"),
            json!({"metadata": "nope"}),
            &WriteOptions::default(),
        )
        .unwrap_err();
    assert_eq!(
        e.code, 422,
        "metadata replaced by an empty object: name missing"
    );
    let p = Patch::Merge(json!({"metadata": {"labels": ["not", "a", "map"]}}));
    s.create(
        &Gvr::core("configmaps"),
        Some("default"),
        cm("shape", json!({})),
        &WriteOptions::default(),
    )
    .unwrap();
    let _ = s.patch(&cm_ref("shape"), &p, &PatchOptions::default());
    let _ = s
        .list(
            &Gvr::core("configmaps"),
            None,
            &crate::sim::storage::selectors::Selector::labels("a=b").unwrap(),
        )
        .unwrap();
}

/// Lists by label read the label index; what they answer must be what a
/// scan of every object answers, after creates, label changes, updates
/// that keep the labels, and deletes.
#[test]
fn label_selected_lists_follow_every_write() {
    let s = store();
    let gvr = Gvr::core("configmaps");
    let gr = GroupResource::new("", "configmaps");
    let labelled = |name: &str, team: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": {"team": team, "tier": "web"}}, "data": {}})
    };
    for (name, team) in [("a", "red"), ("b", "blue"), ("c", "red"), ("d", "blue")] {
        s.create(
            &gvr,
            Some("default"),
            labelled(name, team),
            &WriteOptions::default(),
        )
        .unwrap();
    }
    s.create(
        &gvr,
        Some("kube-system"),
        labelled("e", "red"),
        &WriteOptions::default(),
    )
    .unwrap();
    // b moves to red; c keeps its labels but changes its data; d is deleted.
    let b = s.get(&cm_ref("b")).unwrap();
    let mut b = (*b).clone();
    b["metadata"]["labels"]["team"] = json!("red");
    s.update(&cm_ref("b"), b, &WriteOptions::default()).unwrap();
    let mut c = (*s.get(&cm_ref("c")).unwrap()).clone();
    c["data"] = json!({"k": "v"});
    s.update(&cm_ref("c"), c, &WriteOptions::default()).unwrap();
    s.delete(&cm_ref("d"), &DeleteOptions::default()).unwrap();

    let names = |ns: Option<&str>, labels: &str| -> Vec<String> {
        let sel = Selector::parse(&gr, Some(labels), None).unwrap();
        let listed: Vec<String> = s
            .list(&gvr, ns, &sel)
            .unwrap()
            .items
            .iter()
            .map(|o| meta::name_of(o).to_owned())
            .collect();
        // The same answer from a scan of every object, without the index.
        let st = s.lock();
        let scanned: Vec<String> = st
            .scan(&gr, ns)
            .filter(|o| sel.matches(o))
            .map(|o| meta::name_of(o).to_owned())
            .collect();
        assert_eq!(listed, scanned, "{labels} in {ns:?}");
        listed
    };
    assert_eq!(names(Some("default"), "team=red"), ["a", "b", "c"]);
    assert_eq!(names(None, "team=red"), ["a", "b", "c", "e"]);
    assert_eq!(
        names(Some("default"), "team in (blue)"),
        Vec::<String>::new()
    );
    assert_eq!(names(Some("default"), "team=red,tier=web"), ["a", "b", "c"]);
    assert_eq!(
        names(Some("default"), "team=red,tier=db"),
        Vec::<String>::new()
    );
    assert_eq!(names(Some("default"), "team!=red"), Vec::<String>::new());
    assert_eq!(names(None, "tier"), ["a", "b", "c", "e"]);
    assert_eq!(names(Some("default"), "team=nobody"), Vec::<String>::new());
}
