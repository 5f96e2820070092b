//! The API server's own background controllers: namespace finalization,
//! ownerReference garbage collection (background, foreground, orphan) and
//! CRD cleanup. They react to store events while holding the event's
//! `Busy` guard, so simulated time waits for them.

mod crds;
mod garbage_collector;
mod namespace;

use serde_json::Value;
use tokio::task::JoinHandle;

use super::store::{Event, EventFilter, EventType, Store};

/// Starts the controllers on the current tokio runtime.
pub fn spawn(store: Store) -> JoinHandle<()> {
    let mut sub = store.subscribe(EventFilter::all().deletions());
    tokio::spawn(async move {
        while let Some(d) = sub.recv().await {
            handle(&store, &d.event);
            drop(d.busy);
        }
    })
}

fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

fn has_finalizer(obj: &Value, f: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|x| x == f))
}

/// One event; every step is idempotent, so replays are harmless.
pub(crate) fn handle(store: &Store, ev: &Event) {
    let obj = &ev.object;
    let gr = &ev.resource;
    let is_ns = gr.group.is_empty() && gr.resource == "namespaces";
    match ev.kind {
        EventType::Added | EventType::Modified => {
            if !deleting(obj) {
                return;
            }
            let newly_deleting = ev.old.as_ref().is_none_or(|o| !deleting(o));
            if is_ns && newly_deleting {
                namespace::start(store, obj);
            }
            if has_finalizer(obj, crate::sim::storage::store::FOREGROUND) {
                garbage_collector::foreground(store, obj);
            }
            if has_finalizer(obj, crate::sim::storage::store::ORPHAN) {
                garbage_collector::orphan(store, obj);
            }
            if crate::sim::storage::crd::is_crd(gr)
                && has_finalizer(obj, crate::sim::storage::crd::CLEANUP_FINALIZER)
            {
                crds::cleanup(store, obj);
            }
        }
        EventType::Deleted => {
            garbage_collector::owner_removed(store, obj);
            garbage_collector::dependent_removed(store, obj);
            if let Some(ns) = obj.pointer("/metadata/namespace").and_then(Value::as_str) {
                namespace::content_removed(store, ns);
            }
            crds::instance_removed(store, gr);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::clock::Clock;
    use crate::sim::storage::kinds::Registry;
    use crate::sim::storage::store::{
        DeleteOptions, Gvr, ObjectRef, Propagation, StoreOptions, WriteOptions,
    };

    async fn eventually(mut f: impl FnMut() -> bool) {
        for _ in 0..500 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("condition never became true");
    }

    fn setup() -> Store {
        let s = Store::new(
            Registry::with_builtins(),
            Clock::wall(),
            StoreOptions::default(),
        );
        s.create(
            &Gvr::core("namespaces"),
            None,
            json!({"metadata": {"name": "t"}}),
            &WriteOptions::default(),
        )
        .unwrap();
        spawn(s.clone());
        s
    }

    fn cm(s: &Store, name: &str, owner: Option<&Value>) -> ObjectRef {
        let mut body = json!({"metadata": {"name": name}});
        if let Some(o) = owner {
            body["metadata"]["ownerReferences"] = json!([{"apiVersion": "v1", "kind": "ConfigMap",
                "name": o["metadata"]["name"], "uid": o["metadata"]["uid"], "blockOwnerDeletion": true}]);
        }
        s.create(
            &Gvr::core("configmaps"),
            Some("t"),
            body,
            &WriteOptions::default(),
        )
        .unwrap();
        ObjectRef::namespaced(Gvr::core("configmaps"), "t", name)
    }

    #[tokio::test]
    async fn namespace_deletion_removes_content_then_namespace() {
        let s = setup();
        let a = cm(&s, "a", None);
        let ns = ObjectRef::cluster(Gvr::core("namespaces"), "t");
        s.delete(&ns, &DeleteOptions::default()).unwrap();
        eventually(|| s.get(&ns).is_err()).await;
        assert!(s.get(&a).is_err());
    }

    #[tokio::test]
    async fn background_gc_deletes_orphaned_dependents() {
        let s = setup();
        let owner = cm(&s, "owner", None);
        let o = s.get(&owner).unwrap();
        let dep = cm(&s, "dep", Some(&o));
        s.delete(&owner, &DeleteOptions::default()).unwrap();
        eventually(|| s.get(&dep).is_err()).await;
    }

    #[tokio::test]
    async fn foreground_waits_for_dependents_and_orphan_keeps_them() {
        let s = setup();
        let owner = cm(&s, "owner", None);
        let o = s.get(&owner).unwrap();
        let dep = cm(&s, "dep", Some(&o));
        let fg = DeleteOptions {
            propagation: Some(Propagation::Foreground),
            ..Default::default()
        };
        s.delete(&owner, &fg).unwrap();
        eventually(|| s.get(&owner).is_err()).await;
        assert!(s.get(&dep).is_err());

        let owner = cm(&s, "owner2", None);
        let o = s.get(&owner).unwrap();
        let dep = cm(&s, "dep2", Some(&o));
        let or = DeleteOptions {
            propagation: Some(Propagation::Orphan),
            ..Default::default()
        };
        s.delete(&owner, &or).unwrap();
        eventually(|| s.get(&owner).is_err()).await;
        let d = s.get(&dep).unwrap();
        assert!(d["metadata"].get("ownerReferences").is_none());
    }

    #[tokio::test]
    async fn crd_deletion_removes_instances_and_type() {
        let s = setup();
        let crd_gvr = Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions");
        s.create(&crd_gvr, None, json!({"metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                     "versions": [{"name": "v1", "served": true, "storage": true}]}}), &WriteOptions::default()).unwrap();
        let w = Gvr::new("example.com", "v1", "widgets");
        s.create(
            &w,
            Some("t"),
            json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "x"}}),
            &WriteOptions::default(),
        )
        .unwrap();
        let crd = ObjectRef::cluster(crd_gvr, "widgets.example.com");
        s.delete(&crd, &DeleteOptions::default()).unwrap();
        eventually(|| s.get(&crd).is_err()).await;
        assert!(s.registry().resolve(&w).is_none());
    }
}
