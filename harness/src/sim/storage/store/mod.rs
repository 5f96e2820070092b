//! The object store and the **in-process API** the simulated controllers use.
//!
//! One [`Store`] holds every object of a simulated cluster as JSON
//! ([`serde_json::Value`], shared through [`Arc`]), one global revision
//! counter (etcd-like: every write increments it and the object's
//! `metadata.resourceVersion` is the revision of its last write), a bounded
//! event history that watches resume from, and the clock time of every
//! revision. The HTTP API server is a thin layer over the same calls, so
//! an object written in-process is exactly what `kubectl` sees.
//!
//! # Addressing
//! A resource type is a [`Gvr`] (`Gvr::new("apps", "v1", "deployments")`,
//! `Gvr::core("pods")`); an object is an [`ObjectRef`]
//! (`ObjectRef::namespaced(gvr, "default", "web")`, `ObjectRef::cluster(..)`).
//! Objects are stored once per `(group, plural)`; custom resources read at
//! another served version get their `apiVersion` rewritten.
//!
//! # Verbs
//! | call | semantics |
//! |---|---|
//! | [`Store::get`] | the object or 404 |
//! | [`Store::list`] | matching objects sorted by (namespace, name) and the revision of the list |
//! | [`Store::create`] | server fields set (uid, creationTimestamp, generation 1, rv), defaults applied, `generateName` honoured; 409 if taken, 404/403 for a missing/terminating namespace |
//! | [`Store::update`] | replace; a `metadata.resourceVersion` in the body is a precondition (409 when stale); `.status` is kept for types with a status subresource; generation +1 when anything outside metadata/status changed |
//! | [`Store::update_status`] | replace only `.status`; generation untouched |
//! | [`Store::mutate`] | atomic read-modify-write with a closure (no conflicts); the usual way for controllers to write status |
//! | [`Store::patch`] | merge / JSON / strategic patch, or server-side apply ([`Patch::Apply`]) as a named field manager, on the object or its status ([`PatchOptions::status`]) |
//! | [`Store::apply`] | shorthand for server-side apply |
//! | [`Store::delete`] | finalizers and propagation honoured: [`Deleted::Pending`] when the object only got a `deletionTimestamp`, [`Deleted::Removed`] when it is gone |
//! | [`Store::subscribe`] | an in-process stream of every write from now on |
//!
//! Writes that change nothing are not written (no revision, no event).
//! Every write records `metadata.managedFields` for its field manager
//! ([`WriteOptions::manager`]), so a later `kubectl apply --server-side`
//! conflicts with fields a controller owns exactly as on a real cluster.
//!
//! # Selecting
//! [`Store::list`] takes a [`Selector`]: `Selector::labels("app=web")`,
//! `Selector::from_label_selector(&deployment["spec"]["selector"])` for
//! workload selectors (matchLabels/matchExpressions), or
//! `Selector::parse(&gr, labels, fields)` for the query-string forms
//! (field selectors per type, e.g. pods `spec.nodeName`).
//!
//! # Ownership, deletion, garbage collection
//! Put `metadata.ownerReferences` (with the owner's `uid`) on dependents
//! (ReplicaSets of a Deployment, Pods of a ReplicaSet): when the owner is
//! removed the API server's garbage collector ([`crate::sim::storage::lifecycle`])
//! deletes them (Background), or deletes them first (Foreground), or strips
//! the references (Orphan). Deleting a namespace deletes its content; a
//! deleted CRD deletes its custom resources. [`Store::dependents`] lists
//! the dependents of a uid.
//!
//! # Starting
//! [`crate::sim::SimCluster::start`] creates the system namespaces, then
//! runs the [`crate::sim::SimOptions::hooks`] (where controllers register
//! and Nodes are created, e.g. with [`crate::sim::cluster::add_node`]),
//! then the lifecycle controllers, then opens the API.
//!
//! # Events and simulated time
//! [`Store::subscribe`] returns a [`Subscription`]; each [`Delivery`]
//! carries the [`Event`] (type, resource, object, previous object,
//! revision) and a [`Busy`] guard taken **at write time**. Hold the guard
//! until you have reacted to the event (drop it after your own writes): the
//! virtual clock cannot advance between a write and the controllers'
//! reaction to it.
//!
//! ```ignore
//! let mut sub = store.subscribe(EventFilter::resource(GroupResource::new("apps", "deployments")));
//! while let Some(d) = sub.recv().await {
//!     reconcile(&store, &d.event.object)?;   // writes through the same store
//!     drop(d.busy);                           // now time may move on
//! }
//! ```
//!
//! [`Store::revision_time`] tells the clock time a revision was written.
//! Timestamps the store writes (`creationTimestamp`, `deletionTimestamp`,
//! managedFields times) come from the injected [`Clock`]; use
//! [`Store::now_rfc3339`] for controller-written times such as
//! `lastTransitionTime` (see also [`conditions`]).

mod admin;
pub mod conditions;
mod delete;
mod event_ttl;
mod history;
mod meta;
mod patch_op;
mod state;
mod subscribe;
#[cfg(test)]
mod tests;
mod update;
mod write;

use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use serde_json::Value;

pub use self::delete::{
    DeleteOptions, Deleted, FOREGROUND, IMMORTAL_NAMESPACES, ORPHAN, Propagation,
};
pub use self::event_ttl::{EVENT_TTL, MAX_EVENTS};
use self::state::State;
pub(crate) use self::subscribe::Notice;
pub use self::subscribe::{Delivery, EventFilter, Subscription};
pub use self::write::{PatchOptions, Patched, WriteOptions};
pub use super::patch::Patch;
pub use super::resource::{GroupResource, Gvr, ObjectRef};
use super::selectors::Selector;
pub use super::status::{ApiError, ApiResult};
use crate::clock::{Busy, Clock};
use crate::sim::storage::event_versions;
use crate::sim::storage::kinds::{Registry, ResourceType};

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Created.
    Added,
    /// Changed (including getting a `deletionTimestamp`).
    Modified,
    /// Removed; the object carries the deletion's revision.
    Deleted,
}

impl EventType {
    /// The watch wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One write, as subscribers and watches see it.
#[derive(Debug)]
pub struct Event {
    /// What happened.
    pub kind: EventType,
    /// The object's resource type.
    pub resource: GroupResource,
    /// The object after the write (for Deleted: its last state, with the
    /// deletion's resourceVersion).
    pub object: Arc<Value>,
    /// The object before the write (None for Added).
    pub old: Option<Arc<Value>>,
    /// The revision of the write.
    pub revision: u64,
}

/// A list result: items sorted by (namespace, name), and the store
/// revision they were read at.
#[derive(Debug, Clone)]
pub struct ObjectList {
    /// Matching objects.
    pub items: Vec<Arc<Value>>,
    /// The revision of the read (the list's `metadata.resourceVersion`).
    pub revision: u64,
}

/// A started watch feed.
#[derive(Debug)]
pub(crate) struct WatchStart {
    pub(crate) sub: Subscription,
    /// Synthetic ADDED events queued first (watch without resourceVersion).
    pub(crate) initial: usize,
    /// The revision when the watch started.
    pub(crate) revision: u64,
}

/// Tunables of a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Events kept for watch resumption (older ones give 410 Expired);
    /// history is also compacted every 5 minutes of cluster time, as etcd
    /// is by kube-apiserver.
    pub history_capacity: usize,
    /// Seed of generated names and uids.
    pub seed: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            history_capacity: 10_000,
            seed: 0,
        }
    }
}

/// The store of one simulated cluster. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    registry: Registry,
    clock: Clock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store(rev {})", self.revision())
    }
}

impl Store {
    /// An empty store over `registry`, timestamping with `clock`.
    pub fn new(registry: Registry, clock: Clock, options: StoreOptions) -> Store {
        let state = State::new(&options, clock.now());
        Store {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                registry,
                clock,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn ctx(&self) -> write::Ctx<'_> {
        write::Ctx {
            registry: &self.inner.registry,
            clock: &self.inner.clock,
        }
    }

    /// The type registry (built-ins plus CRD-defined types).
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The clock that timestamps writes.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// A Busy guard on the store's clock.
    pub fn busy(&self) -> Busy {
        self.inner.clock.busy()
    }

    /// The current time as Kubernetes writes timestamps (RFC 3339, UTC,
    /// whole seconds), for `lastTransitionTime` and the like.
    pub fn now_rfc3339(&self) -> String {
        meta::rfc3339(self.inner.clock.now())
    }

    /// The current global revision.
    pub fn revision(&self) -> u64 {
        self.lock().rev
    }

    /// The clock time at which revision `rev` was written (None for a
    /// future or long-forgotten revision). Time only changes at virtual
    /// clock jumps, so this is exact for every retained revision.
    pub fn revision_time(&self, rev: u64) -> Option<Timestamp> {
        let st = self.lock();
        st.times.time_of(rev, st.rev)
    }

    /// The wall-clock instant a recent revision was written (None when it
    /// is too old or was never written): the reference for measuring how
    /// long a watcher took to notice it.
    pub fn revision_wall(&self, rev: u64) -> Option<std::time::Instant> {
        let st = self.lock();
        st.times.wall_of(rev)
    }

    /// The oldest revision a watch can still resume from.
    pub fn oldest_revision(&self) -> u64 {
        self.lock().history.oldest()
    }

    fn resolve(&self, gvr: &Gvr) -> ApiResult<Arc<ResourceType>> {
        self.inner
            .registry
            .resolve(gvr)
            .ok_or_else(ApiError::unknown_resource)
    }

    /// The type objects of `gvr` are stored as, and the Gvr to store them
    /// at: itself except for `events.k8s.io` Events
    /// ([`event_versions`]), stored as core/v1 Events. 404 for an unknown type.
    fn storage(&self, gvr: &Gvr) -> ApiResult<(Arc<ResourceType>, Gvr)> {
        self.resolve(gvr)?;
        let at = event_versions::storage_gvr(gvr);
        Ok((self.resolve(&at)?, at))
    }

    /// `r` at its storage Gvr.
    fn stored_ref(&self, r: &ObjectRef) -> ApiResult<(Arc<ResourceType>, ObjectRef)> {
        let (rt, gvr) = self.storage(&r.gvr)?;
        Ok((
            rt,
            ObjectRef {
                gvr,
                namespace: r.namespace.clone(),
                name: r.name.clone(),
            },
        ))
    }

    /// A request body for `gvr` in the field names of its storage version
    /// (type meta checked against `gvr` first).
    fn body_to_storage(&self, gvr: &Gvr, mut obj: Value) -> ApiResult<Value> {
        if !event_versions::is_alias(&gvr.group_resource()) {
            return Ok(obj);
        }
        meta::check_type_meta(&*self.resolve(gvr)?, gvr, &mut obj)?;
        Ok(event_versions::to_core(obj))
    }

    /// A stored object as `gvr` serves it (custom resources at another
    /// version, core Events as `events.k8s.io/v1`).
    pub fn view(&self, obj: Arc<Value>, gvr: &Gvr) -> Arc<Value> {
        match self.resolve(gvr) {
            Ok(rt) => meta::view(obj, gvr, &rt),
            Err(_) => obj,
        }
    }

    /// Reads one object.
    ///
    /// # Errors
    /// 404 when the type or the object does not exist.
    pub fn get(&self, r: &ObjectRef) -> ApiResult<Arc<Value>> {
        let rt = self.resolve(&r.gvr)?;
        let (stored, _) = self.storage(&r.gvr)?;
        let st = self.lock();
        let obj = st
            .get(&stored.group_resource(), r.namespace.as_deref(), &r.name)
            .ok_or_else(|| ApiError::not_found(&rt.group_resource(), &r.name))?;
        Ok(meta::view(obj, &r.gvr, &rt))
    }

    /// Lists objects of a type, in one namespace or all (`None`), that
    /// match `selector`.
    ///
    /// # Errors
    /// 404 when the type does not exist.
    pub fn list(
        &self,
        gvr: &Gvr,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> ApiResult<ObjectList> {
        let rt = self.resolve(gvr)?;
        let (stored, _) = self.storage(gvr)?;
        let st = self.lock();
        let items = st
            .scan_selected(&stored.group_resource(), namespace, selector)
            .map(|o| meta::view(o.clone(), gvr, &rt))
            .collect();
        Ok(ObjectList {
            items,
            revision: st.rev,
        })
    }

    /// Creates an object of type `gvr` in `namespace` (ignored for
    /// cluster-scoped types; the body's namespace is used when `None`).
    ///
    /// # Errors
    /// 404 unknown type or missing namespace; 403 terminating namespace;
    /// 409 name taken; 422 invalid name/object; 400 mismatching body.
    pub fn create(
        &self,
        gvr: &Gvr,
        namespace: Option<&str>,
        obj: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Arc<Value>> {
        let rt = self.resolve(gvr)?;
        let (stored, at) = self.storage(gvr)?;
        let obj = self.body_to_storage(gvr, obj)?;
        let out = self
            .lock()
            .create(&self.ctx(), &stored, &at, namespace, obj, opts)?;
        Ok(meta::view(out, gvr, &rt))
    }

    /// Replaces an object (PUT semantics; see the module docs).
    ///
    /// # Errors
    /// 404 missing; 409 stale resourceVersion; 422 custom resource without
    /// resourceVersion; 400 mismatching name/namespace/kind.
    pub fn update(&self, r: &ObjectRef, obj: Value, opts: &WriteOptions) -> ApiResult<Arc<Value>> {
        let rt = self.resolve(&r.gvr)?;
        let (stored, sr) = self.stored_ref(r)?;
        let obj = self.body_to_storage(&r.gvr, obj)?;
        let out = self
            .lock()
            .replace(&self.ctx(), &stored, &sr, obj, false, opts)?;
        Ok(meta::view(out, &r.gvr, &rt))
    }

    /// Replaces only `.status` (the status subresource).
    ///
    /// # Errors
    /// 404 missing object or type without status subresource; 409 stale
    /// resourceVersion.
    pub fn update_status(
        &self,
        r: &ObjectRef,
        obj: Value,
        opts: &WriteOptions,
    ) -> ApiResult<Arc<Value>> {
        let rt = self.resolve(&r.gvr)?;
        let (stored, sr) = self.stored_ref(r)?;
        let obj = self.body_to_storage(&r.gvr, obj)?;
        let out = self
            .lock()
            .replace(&self.ctx(), &stored, &sr, obj, true, opts)?;
        Ok(meta::view(out, &r.gvr, &rt))
    }

    /// Atomically reads the object, lets `f` change it, and writes it back
    /// (the status only when `status` is true). Returns the stored object
    /// (unchanged, with no new revision, if `f` changed nothing).
    ///
    /// `f` runs under the store's lock: it must not call the store.
    ///
    /// # Errors
    /// 404 missing; whatever `f` returns; validation errors of the write.
    pub fn mutate<F>(
        &self,
        r: &ObjectRef,
        status: bool,
        opts: &WriteOptions,
        f: F,
    ) -> ApiResult<Arc<Value>>
    where
        F: FnOnce(&mut Value) -> ApiResult<()>,
    {
        let rt = self.resolve(&r.gvr)?;
        let (stored, sr) = self.stored_ref(r)?;
        let out = self
            .lock()
            .mutate(&self.ctx(), &stored, &sr, status, opts, f)?;
        Ok(meta::view(out, &r.gvr, &rt))
    }

    /// Patches an object; server-side apply creates it when missing.
    ///
    /// # Errors
    /// 404 missing (not for apply); 409 stale resourceVersion or apply
    /// conflicts; 415 strategic merge on a custom resource; 422 failed
    /// JSON patch, apply without manager, `force` on a non-apply patch.
    pub fn patch(&self, r: &ObjectRef, patch: &Patch, opts: &PatchOptions) -> ApiResult<Patched> {
        let rt = self.resolve(&r.gvr)?;
        let (stored, sr) = self.stored_ref(r)?;
        let converted;
        let patch = if event_versions::is_alias(&r.gvr.group_resource()) {
            converted = event_versions::patch_to_core(patch)?;
            &converted
        } else {
            patch
        };
        let mut out = self.lock().patch(&self.ctx(), &stored, &sr, patch, opts)?;
        out.object = meta::view(out.object, &r.gvr, &rt);
        Ok(out)
    }

    /// Server-side apply of `obj` as `manager` (created when missing).
    ///
    /// # Errors
    /// As [`Store::patch`].
    pub fn apply(
        &self,
        r: &ObjectRef,
        obj: Value,
        manager: &str,
        force: bool,
    ) -> ApiResult<Arc<Value>> {
        let opts = PatchOptions {
            manager: manager.to_owned(),
            force,
            ..PatchOptions::default()
        };
        self.patch(r, &Patch::Apply(obj), &opts).map(|p| p.object)
    }

    /// Deletes an object (see [`Deleted`]).
    ///
    /// # Errors
    /// 404 missing; 409 failed precondition; 403 immortal namespace.
    pub fn delete(&self, r: &ObjectRef, opts: &DeleteOptions) -> ApiResult<Deleted> {
        let rt = self.resolve(&r.gvr)?;
        let (stored, sr) = self.stored_ref(r)?;
        let out = self.lock().delete(&self.ctx(), &stored, &sr, opts)?;
        Ok(out.map(|o| meta::view(o, &r.gvr, &rt)))
    }

    /// Deletes every matching object; returns what was deleted or marked.
    ///
    /// # Errors
    /// 404 unknown type; 405 for types without deletecollection.
    pub fn delete_collection(
        &self,
        gvr: &Gvr,
        namespace: Option<&str>,
        selector: &Selector,
        opts: &DeleteOptions,
    ) -> ApiResult<Vec<Arc<Value>>> {
        let rt = self.resolve(gvr)?;
        if !rt.delete_collection {
            return Err(ApiError::new(
                super::status::Reason::MethodNotAllowed,
                "the server does not allow this method on the requested resource",
            ));
        }
        let (stored, at) = self.storage(gvr)?;
        let mut st = self.lock();
        let names: Vec<(Option<String>, String)> = st
            .scan_selected(&stored.group_resource(), namespace, selector)
            .map(|o| (meta::namespace_of(o), meta::name_of(o).to_owned()))
            .collect();
        let mut out = Vec::new();
        for (ns, name) in names {
            let r = ObjectRef {
                gvr: at.clone(),
                namespace: ns,
                name,
            };
            match st.delete(&self.ctx(), &stored, &r, opts) {
                Ok(d) => out.push(meta::view(d.into_object(), gvr, &rt)),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// Replaces `spec.finalizers` of a namespace (the `finalize`
    /// subresource); a terminating namespace with none left is removed.
    ///
    /// # Errors
    /// 404 when the namespace does not exist.
    pub fn finalize_namespace(&self, name: &str, finalizers: &[String]) -> ApiResult<Arc<Value>> {
        let r = ObjectRef::cluster(Gvr::core("namespaces"), name);
        let rt = self.resolve(&r.gvr)?;
        self.lock()
            .finalize_namespace(&self.ctx(), &rt, &r, serde_json::json!(finalizers))
    }
}

impl Deleted {
    fn map(self, f: impl FnOnce(Arc<Value>) -> Arc<Value>) -> Deleted {
        match self {
            Deleted::Removed(o) => Deleted::Removed(f(o)),
            Deleted::Pending(o) => Deleted::Pending(f(o)),
        }
    }
}
