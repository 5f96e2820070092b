//! Whether an emulated Flux controller is running.
//!
//! A controller runs only while its Deployment exists in the Flux
//! namespace, is not being deleted and has an available replica, and while
//! the namespace itself is not being deleted — so deleting `flux-system`
//! (the `controller-loss` fault) stops reconciliation, a Deployment that
//! cannot start (a missing image) never reconciles, and re-installing Flux
//! brings the controllers back.

use serde_json::Value;

use crate::sim::storage::store::{Event, Gvr, ObjectRef, Store};

fn deleting(obj: &Value) -> bool {
    obj.pointer("/metadata/deletionTimestamp")
        .is_some_and(|v| !v.is_null())
}

/// True when the namespace is missing or being deleted.
pub fn namespace_gone(store: &Store, namespace: &str) -> bool {
    match store.get(&ObjectRef::cluster(Gvr::core("namespaces"), namespace)) {
        Ok(ns) => deleting(&ns),
        Err(_) => true,
    }
}

/// True when `controller` runs in `namespace` (see the module docs).
pub fn is_running(store: &Store, namespace: &str, controller: &str) -> bool {
    if namespace_gone(store, namespace) {
        return false;
    }
    let deployment =
        ObjectRef::namespaced(Gvr::new("apps", "v1", "deployments"), namespace, controller);
    match store.get(&deployment) {
        Ok(d) => {
            !deleting(&d)
                && d.pointer("/status/availableReplicas")
                    .and_then(Value::as_i64)
                    .is_some_and(|n| n > 0)
        }
        Err(_) => false,
    }
}

/// True when `ev` may change whether a controller of `namespace` runs.
pub fn concerns(ev: &Event, namespace: &str) -> bool {
    let gr = &ev.resource;
    let name = ev
        .object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let ns = ev
        .object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    (gr.group.is_empty() && gr.resource == "namespaces" && name == namespace)
        || (gr.group == "apps" && gr.resource == "deployments" && ns == namespace)
}
