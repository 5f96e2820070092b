//! CRD cleanup: a deleted CRD first deletes all its custom resources.

use serde_json::{Value, json};
use tracing::debug;

use crate::sim::storage::crd::{CLEANUP_FINALIZER, is_crd, resource_type};
use crate::sim::storage::store::{
    DeleteOptions, GroupResource, Gvr, ObjectRef, Store, WriteOptions, conditions,
};

fn crd_ref(name: &str) -> ObjectRef {
    ObjectRef::cluster(
        Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions"),
        name,
    )
}

/// A CRD is terminating: mark it, delete its instances, and release it
/// when none remain.
pub(super) fn cleanup(store: &Store, crd: &Value) {
    let Some(t) = resource_type(crd) else { return };
    let name = crd
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let gr = t.group_resource();
    let now = store.now_rfc3339();
    let _ = store.mutate(&crd_ref(&name), true, &WriteOptions::default(), |o| {
        conditions::set_condition(
            o,
            "Terminating",
            "True",
            "InstanceDeletionInProgress",
            "CustomResource deletion is in progress",
            &now,
            None,
        );
        Ok(())
    });
    for r in store.all_of(&gr) {
        if let Err(e) = store.delete(&r, &DeleteOptions::default())
            && !e.is_not_found()
        {
            debug!(object = %r, error = %e, "custom resource cleanup failed");
        }
    }
    release_if_empty(store, &name, &gr);
}

fn release_if_empty(store: &Store, crd_name: &str, gr: &GroupResource) {
    if store.has_objects_of(gr) {
        return;
    }
    let _ = store.mutate(&crd_ref(crd_name), false, &WriteOptions::default(), |o| {
        if let Some(f) = o
            .pointer_mut("/metadata/finalizers")
            .and_then(Value::as_array_mut)
        {
            f.retain(|x| x != &json!(CLEANUP_FINALIZER));
        }
        Ok(())
    });
}

/// A custom resource went away: its terminating CRD may now be released.
pub(super) fn instance_removed(store: &Store, gr: &GroupResource) {
    if gr.group.is_empty() || is_crd(gr) || !store.registry().get(gr).is_some_and(|t| t.custom) {
        return;
    }
    let name = format!("{}.{}", gr.resource, gr.group);
    if let Ok(crd) = store.get(&crd_ref(&name))
        && super::deleting(&crd)
    {
        release_if_empty(store, &name, gr);
    }
}
