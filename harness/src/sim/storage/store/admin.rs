//! Events, indexes for the lifecycle controllers, and the operations the
//! fault hooks use (compaction, closing watches, clearing).

use std::sync::Arc;

use serde_json::Value;

use super::{
    ApiError, ApiResult, Event, EventFilter, GroupResource, ObjectRef, Store, Subscription,
    WatchStart, meta, subscribe,
};

impl Store {
    /// Subscribes to every write matching `filter` from now on.
    pub fn subscribe(&self, filter: EventFilter) -> Subscription {
        self.lock()
            .subscribe(&self.inner.clock, filter, subscribe::Kind::Internal)
    }

    /// Starts a watch: the events after `from` (or synthetic ADDED events
    /// for the current objects when `from` is None), then live events.
    /// Closed by [`Store::close_watches`]; told about compaction.
    ///
    /// # Errors
    /// 410 Expired when `from` is older than the retained history.
    pub(crate) fn watch(&self, filter: EventFilter, from: Option<u64>) -> ApiResult<WatchStart> {
        let mut st = self.lock();
        let (sub, initial) = st.watch(&self.inner.clock, filter, from)?;
        Ok(WatchStart {
            sub,
            initial,
            revision: st.rev,
        })
    }

    /// The retained events after revision `rev` that match `filter`, oldest
    /// first (what a watch from `rev` replays).
    ///
    /// # Errors
    /// 410 Expired when events after `rev` were already dropped.
    pub fn events_since(&self, rev: u64, filter: &EventFilter) -> ApiResult<Vec<Arc<Event>>> {
        let st = self.lock();
        let events = st.history.since(rev).ok_or_else(|| {
            ApiError::expired(format!(
                "too old resource version: {rev} ({})",
                st.history.oldest() + 1
            ))
        })?;
        Ok(events.filter(|e| filter.matches(e)).cloned().collect())
    }

    /// Objects owned (through `ownerReferences`) by the object with `uid`.
    pub fn dependents(&self, uid: &str) -> Vec<ObjectRef> {
        let st = self.lock();
        st.dependents(uid, &self.inner.registry)
    }

    /// The object with this uid, if it exists.
    pub fn object_by_uid(&self, uid: &str) -> Option<Arc<Value>> {
        let st = self.lock();
        let (gr, key) = st.uids.get(uid)?;
        st.get(gr, Some(&key.0), &key.1)
    }

    /// The reference of a stored object (its type at the preferred version).
    pub fn ref_of(&self, obj: &Value) -> Option<ObjectRef> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let (group, _) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let kind = obj.get("kind")?.as_str()?;
        let rt = self.inner.registry.by_kind(group, kind)?;
        Some(ObjectRef {
            gvr: rt.preferred_gvr(),
            namespace: if rt.namespaced {
                meta::namespace_of(obj)
            } else {
                None
            },
            name: meta::name_of(obj).to_owned(),
        })
    }

    /// True when any object lives in namespace `ns`.
    pub fn has_objects_in(&self, ns: &str) -> bool {
        self.lock().has_objects_in(ns)
    }

    /// True when any object of `gr` exists.
    pub fn has_objects_of(&self, gr: &GroupResource) -> bool {
        self.lock().scan(gr, None).next().is_some()
    }

    /// True when an object with this uid exists.
    pub fn uid_exists(&self, uid: &str) -> bool {
        self.lock().uids.contains_key(uid)
    }

    /// Every namespaced object in `namespace`, of every type.
    pub fn namespace_contents(&self, namespace: &str) -> Vec<ObjectRef> {
        let st = self.lock();
        st.namespace_contents(namespace, &self.inner.registry)
    }

    /// Every object of `gr` in all namespaces (for CRD cleanup).
    pub fn all_of(&self, gr: &GroupResource) -> Vec<ObjectRef> {
        let Some(rt) = self.inner.registry.get(gr) else {
            return Vec::new();
        };
        let st = self.lock();
        st.scan(gr, None)
            .map(|o| ObjectRef {
                gvr: rt.preferred_gvr(),
                namespace: meta::namespace_of(o),
                name: meta::name_of(o).to_owned(),
            })
            .collect()
    }

    /// Drops the event history up to the current revision, after a write
    /// to an internal key (as the API server's compactor does), so every
    /// watch position is now too old: running watches get an in-stream 410
    /// `Expired` and resuming clients must relist.
    pub fn compact(&self) {
        let clock = self.inner.clock.clone();
        self.lock().compact(&clock);
    }

    /// Closes every HTTP watch (as an API server restart does); in-process
    /// subscriptions stay open.
    pub fn close_watches(&self) {
        self.lock().close_watches(None);
    }

    /// Removes every object and the history (the cluster is destroyed).
    /// The revision keeps counting up.
    pub fn clear(&self) {
        self.lock().clear();
    }
}
