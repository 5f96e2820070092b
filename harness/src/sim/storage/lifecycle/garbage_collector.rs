//! The ownerReference garbage collector (background, foreground and orphan
//! propagation), as kube-controller-manager runs it — not the harness's
//! cleanup of leftover clusters, which is another "gc".

use serde_json::{Value, json};
use tracing::debug;

use crate::sim::storage::store::{
    DeleteOptions, FOREGROUND, ORPHAN, ObjectRef, Propagation, Store, WriteOptions,
};

fn uid_of(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/uid").and_then(Value::as_str)
}

fn owner_uids(obj: &Value) -> Vec<String> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn drop_refs(store: &Store, dep: &ObjectRef, dead: &dyn Fn(&str) -> bool) {
    let res = store.mutate(
        dep,
        false,
        &WriteOptions::manager("generic-garbage-collector"),
        |o| {
            if let Some(refs) = o
                .pointer_mut("/metadata/ownerReferences")
                .and_then(Value::as_array_mut)
            {
                refs.retain(|r| !r.get("uid").and_then(Value::as_str).is_some_and(dead));
                if refs.is_empty()
                    && let Some(m) = o["metadata"].as_object_mut()
                {
                    m.remove("ownerReferences");
                }
            }
            Ok(())
        },
    );
    if let Err(e) = res
        && !e.is_not_found()
    {
        debug!(object = %dep, error = %e, "dropping owner references failed");
    }
}

/// An object went away: its dependents whose owners are all gone are
/// deleted; the others lose the dangling reference.
pub(super) fn owner_removed(store: &Store, owner: &Value) {
    let Some(uid) = uid_of(owner) else { return };
    for dep in store.dependents(uid) {
        let Ok(obj) = store.get(&dep) else { continue };
        if super::deleting(&obj) {
            continue;
        }
        let living = owner_uids(&obj)
            .iter()
            .any(|u| u != uid && store.uid_exists(u));
        if living {
            drop_refs(store, &dep, &|u| !store.uid_exists(u));
        } else if let Err(e) = store.delete(&dep, &DeleteOptions::default())
            && !e.is_not_found()
        {
            debug!(object = %dep, error = %e, "garbage collection failed");
        }
    }
}

/// A dependent went away: owners waiting in foreground deletion re-check.
pub(super) fn dependent_removed(store: &Store, dep: &Value) {
    for uid in owner_uids(dep) {
        if let Some(owner) = store.object_by_uid(&uid)
            && super::has_finalizer(&owner, FOREGROUND)
        {
            foreground(store, &owner);
        }
    }
}

fn remove_finalizer(store: &Store, obj: &Value, finalizer: &str) {
    let Some(r) = store.ref_of(obj) else { return };
    let _ = store.mutate(
        &r,
        false,
        &WriteOptions::manager("generic-garbage-collector"),
        |o| {
            if let Some(f) = o
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                f.retain(|x| x != &json!(finalizer));
            }
            Ok(())
        },
    );
}

/// Foreground deletion: delete dependents; the owner goes when none remain.
pub(super) fn foreground(store: &Store, owner: &Value) {
    let Some(uid) = uid_of(owner) else { return };
    let deps = store.dependents(uid);
    for dep in &deps {
        let opts = DeleteOptions {
            propagation: Some(Propagation::Foreground),
            ..DeleteOptions::default()
        };
        if let Err(e) = store.delete(dep, &opts)
            && !e.is_not_found()
        {
            debug!(object = %dep, error = %e, "foreground deletion of dependent failed");
        }
    }
    if store.dependents(uid).is_empty() {
        remove_finalizer(store, owner, FOREGROUND);
    }
}

/// Orphan deletion: strip the owner from its dependents, then let it go.
pub(super) fn orphan(store: &Store, owner: &Value) {
    let Some(uid) = uid_of(owner).map(str::to_owned) else {
        return;
    };
    for dep in store.dependents(&uid) {
        drop_refs(store, &dep, &|u| u == uid);
    }
    remove_finalizer(store, owner, ORPHAN);
}
