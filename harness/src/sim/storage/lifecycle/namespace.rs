//! Namespace finalization: delete every object in a terminating
//! namespace, then clear its `kubernetes` finalizer so it goes.

use serde_json::Value;
use tracing::debug;

use crate::sim::storage::store::{
    DeleteOptions, GroupResource, Gvr, ObjectRef, Store, WriteOptions, conditions,
};

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The namespace just got its deletionTimestamp: delete its content.
pub(super) fn start(store: &Store, ns_obj: &Value) {
    let ns = name_of(ns_obj);
    let contents = store.namespace_contents(ns);
    debug!(
        namespace = ns,
        objects = contents.len(),
        "finalizing namespace"
    );
    for r in &contents {
        if let Err(e) = store.delete(r, &DeleteOptions::default())
            && !e.is_not_found()
        {
            debug!(object = %r, error = %e, "namespace content deletion failed");
        }
    }
    if !contents.is_empty() && store.has_objects_in(ns) {
        let now = store.now_rfc3339();
        let r = ObjectRef::cluster(Gvr::core("namespaces"), ns);
        let _ = store.mutate(&r, true, &WriteOptions::default(), |o| {
            conditions::set_condition(
                o,
                "NamespaceContentRemaining",
                "True",
                "SomeResourcesRemain",
                "Some resources are remaining",
                &now,
                None,
            );
            Ok(())
        });
    }
    content_removed(store, ns);
}

/// Something in `ns` went away: if the namespace is terminating and now
/// empty, finalize it.
pub(super) fn content_removed(store: &Store, ns: &str) {
    let r = ObjectRef::cluster(Gvr::core("namespaces"), ns);
    let Ok(obj) = store.get(&r) else { return };
    if !super::deleting(&obj) || store.has_objects_in(ns) {
        return;
    }
    let _ = GroupResource::new("", "namespaces");
    if let Err(e) = store.finalize_namespace(ns, &[]) {
        debug!(namespace = ns, error = %e, "namespace finalize failed");
    }
}
