//! The loop every emulated Flux controller runs: a work queue fed by store
//! events and timers on the cluster's clock, reconciles (one pass of
//! [`super::reconcile::run`] each) with bounded concurrency, requeues as
//! controller-runtime does, and the controller's life tied to its
//! Deployment ([`super::activity`]).
//!
//! Simulated time: the loop holds the `Busy` guard of the event or timer it
//! reacts to until it has dispatched the work; each reconcile gets its own
//! guard before the loop lets go of that one, and hands a guard back when
//! it finishes. A reconcile only starts when a concurrency slot is free —
//! it never waits for one while holding a guard (the slot holders may be
//! waiting for simulated time to pass).

use crate::sim::recorder::Recorder;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde_json::Value;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::{AbortHandle, JoinHandle};

use super::activity;
use super::reconcile::{self, Controller};
use super::spec::{SourceRef, depends_on};
use super::status::{FINALIZER, deleting, has_finalizer};
use crate::clock::{Busy, Clock};
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{
    Event, EventFilter, EventType, Gvr, ObjectRef, Store, WriteOptions,
};

/// An object: (namespace, name).
pub type Key = (String, String);

/// What to do after a reconcile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requeue {
    /// Again after this long (Flux's `RequeueAfter`).
    After(Duration),
    /// It failed: again after controller-runtime's per-object exponential
    /// backoff (Flux's defaults: 750 ms doubling up to 15 min).
    Backoff,
    /// Only when something changes.
    Never,
}

/// First retry delay after a failure (Flux's `--min-retry-delay`).
const MIN_RETRY: Duration = Duration::from_millis(750);
/// Longest retry delay (Flux's `--max-retry-delay`).
const MAX_RETRY: Duration = Duration::from_secs(15 * 60);

/// The delay before retry number `failures` (1-based).
pub fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(20));
    MIN_RETRY.saturating_mul(factor).min(MAX_RETRY)
}

/// A running controller loop; stops when dropped.
#[derive(Debug)]
pub struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops the loop and every reconcile in flight.
    pub fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        self.task.abort();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts `ctl` on `store`, for Flux installed in `namespace`.
pub fn spawn<C: Controller>(
    ctl: Arc<C>,
    store: Store,
    namespace: String,
    concurrency: usize,
) -> Running {
    let (stop_tx, stop_rx) = oneshot::channel();
    let sub = store.subscribe(EventFilter::all());
    let task = tokio::spawn(run(ctl, store, namespace, concurrency.max(1), sub, stop_rx));
    Running {
        stop: Some(stop_tx),
        task,
    }
}

struct Loop<C: Controller> {
    ctl: Arc<C>,
    store: Store,
    clock: Clock,
    namespace: String,
    active: bool,
    due: BTreeMap<Key, Timestamp>,
    inflight: HashMap<Key, AbortHandle>,
    dirty: HashSet<Key>,
    failures: HashMap<Key, u32>,
    slots: Arc<Semaphore>,
    done: mpsc::UnboundedSender<(Key, Requeue, Busy)>,
    /// The controller's Event recorder (`source.component` = its name).
    events: Arc<Recorder>,
}

async fn sleep_until(clock: &Clock, at: Option<Timestamp>) -> Busy {
    match at {
        Some(t) => clock.sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn run<C: Controller>(
    ctl: Arc<C>,
    store: Store,
    namespace: String,
    concurrency: usize,
    mut sub: crate::sim::storage::store::Subscription,
    mut stop: oneshot::Receiver<()>,
) {
    let clock = store.clock().clone();
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let events = Arc::new(Recorder::new(store.clone(), C::NAME, C::NAME));
    let mut lp = Loop {
        ctl,
        events,
        store,
        clock: clock.clone(),
        namespace,
        active: false,
        due: BTreeMap::new(),
        inflight: HashMap::new(),
        dirty: HashSet::new(),
        failures: HashMap::new(),
        slots: Arc::new(Semaphore::new(concurrency)),
        done: done_tx,
    };
    {
        let _busy = clock.busy();
        lp.refresh_activity();
        lp.dispatch();
    }
    loop {
        let next = lp.next_due();
        tokio::select! {
            _ = &mut stop => break,
            d = sub.recv() => {
                let Some(d) = d else { break };
                lp.on_event(&d.event);
                lp.dispatch();
                drop(d.busy);
            }
            Some((key, requeue, busy)) = done_rx.recv() => {
                lp.on_done(key, requeue);
                lp.dispatch();
                drop(busy);
            }
            busy = sleep_until(&clock, next) => {
                lp.dispatch();
                drop(busy);
            }
        }
    }
    lp.deactivate();
}

impl<C: Controller> Loop<C> {
    fn next_due(&self) -> Option<Timestamp> {
        if !self.active {
            return None;
        }
        // Work already due waits for a free slot (a finished reconcile
        // dispatches it), not for a timer: a timer in the past would fire
        // at once, forever.
        let now = self.clock.now();
        let slots_free = self.slots.available_permits() > 0;
        self.due
            .iter()
            .filter(|(k, t)| !self.inflight.contains_key(*k) && (slots_free || **t > now))
            .map(|(_, t)| *t)
            .min()
    }

    fn enqueue(&mut self, key: Key, at: Timestamp) {
        if self.inflight.contains_key(&key) {
            self.dirty.insert(key);
            return;
        }
        let slot = self.due.entry(key).or_insert(at);
        if at < *slot {
            *slot = at;
        }
    }

    fn refresh_activity(&mut self) {
        let running = activity::is_running(&self.store, &self.namespace, C::NAME);
        if running == self.active {
            return;
        }
        if running {
            tracing::debug!(controller = C::NAME, "emulated Flux controller started");
            self.active = true;
            let now = self.clock.now();
            if let Ok(list) = self
                .store
                .list(&self.ctl.resource(), None, &Selector::default())
            {
                for o in &list.items {
                    if let Some(key) = key_of(o) {
                        self.enqueue(key, now);
                    }
                }
            }
        } else {
            tracing::debug!(controller = C::NAME, "emulated Flux controller stopped");
            self.deactivate();
            self.release_orphans();
        }
    }

    fn deactivate(&mut self) {
        self.active = false;
        for (_, h) in self.inflight.drain() {
            h.abort();
        }
        self.due.clear();
        self.dirty.clear();
        self.failures.clear();
    }

    /// While Flux's own namespace is being deleted its controllers are gone
    /// and nobody would ever remove the finalizers of Flux objects being
    /// deleted with it; the namespace would stay `Terminating` forever (as
    /// it does on a real cluster unless `flux uninstall` runs). The
    /// simulator drops those finalizers without garbage collection — what
    /// `flux uninstall` does — so that a re-bootstrap can recreate the
    /// namespace.
    fn release_orphans(&self) {
        if !activity::namespace_gone(&self.store, &self.namespace) {
            return;
        }
        let Ok(list) = self
            .store
            .list(&self.ctl.resource(), None, &Selector::default())
        else {
            return;
        };
        for o in list
            .items
            .iter()
            .filter(|o| deleting(o) && has_finalizer(o))
        {
            self.release(o);
        }
    }

    fn release(&self, obj: &Value) {
        let Some((ns, name)) = key_of(obj) else {
            return;
        };
        let r = ObjectRef::namespaced(self.ctl.resource(), &ns, &name);
        let _ = self
            .store
            .mutate(&r, false, &WriteOptions::manager(C::NAME), |o| {
                if let Some(f) = o
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x.as_str() != Some(FINALIZER));
                }
                Ok(())
            });
    }

    fn on_event(&mut self, ev: &Event) {
        if activity::concerns(ev, &self.namespace) {
            self.refresh_activity();
        }
        let own = ev.resource == self.ctl.resource().group_resource();
        if !self.active {
            if own
                && ev.kind != EventType::Deleted
                && deleting(&ev.object)
                && has_finalizer(&ev.object)
                && activity::namespace_gone(&self.store, &self.namespace)
            {
                self.release(&ev.object);
            }
            return;
        }
        if own
            && ev.kind == EventType::Deleted
            && let Some(key) = key_of(&ev.object)
        {
            self.due.remove(&key);
            self.failures.remove(&key);
            self.dirty.remove(&key);
            return;
        }
        let now = self.clock.now();
        for key in self.ctl.triggered_by(&self.store, ev) {
            self.enqueue(key, now);
        }
    }

    fn on_done(&mut self, key: Key, requeue: Requeue) {
        self.inflight.remove(&key);
        if !self.active {
            return;
        }
        let now = self.clock.now();
        let next = match requeue {
            Requeue::After(d) => {
                self.failures.remove(&key);
                Some(add(now, d))
            }
            Requeue::Backoff => {
                let n = self.failures.entry(key.clone()).or_insert(0);
                *n += 1;
                Some(add(now, backoff(*n)))
            }
            Requeue::Never => {
                self.failures.remove(&key);
                None
            }
        };
        if self.dirty.remove(&key) {
            self.enqueue(key, now);
        } else if let Some(at) = next {
            self.enqueue(key, at);
        }
    }

    fn dispatch(&mut self) {
        if !self.active {
            return;
        }
        let now = self.clock.now();
        let mut ready: Vec<(Timestamp, Key)> = self
            .due
            .iter()
            .filter(|(k, t)| **t <= now && !self.inflight.contains_key(*k))
            .map(|(k, t)| (*t, k.clone()))
            .collect();
        ready.sort();
        for (_, key) in ready {
            let Ok(slot) = self.slots.clone().try_acquire_owned() else {
                break;
            };
            self.due.remove(&key);
            let busy = self.clock.busy();
            let (ctl, done, k) = (self.ctl.clone(), self.done.clone(), key.clone());
            let events = self.events.clone();
            let task = tokio::spawn(async move {
                let _slot = slot;
                let (requeue, busy) = reconcile::run(&*ctl, k.clone(), busy, &events).await;
                let _ = done.send((k, requeue, busy));
            });
            self.inflight.insert(key, task.abort_handle());
        }
    }
}

/// (namespace, name) of an object.
pub fn key_of(obj: &Value) -> Option<Key> {
    let ns = obj.pointer("/metadata/namespace")?.as_str()?;
    let name = obj.pointer("/metadata/name")?.as_str()?;
    Some((ns.to_owned(), name.to_owned()))
}

/// What a store event wakes, for a controller of `own` objects that depend
/// on others of their kind and read a GitRepository (kustomize-controller,
/// tf-controller): the changed object when its spec or `requestedAt`
/// changed; the dependents of an object that `became_ready(new, old)`; the
/// objects whose GitRepository's or OCIRepository's artifact revision
/// moved. `all` lists the
/// controller's objects. Only `sourceRef` and `dependsOn` are read, so a
/// thousand objects' dependents are found without parsing their specs.
pub fn woken(
    ev: &Event,
    own: &Gvr,
    all: impl Fn() -> Vec<Arc<Value>>,
    became_ready: impl Fn(&Value, Option<&Value>) -> bool,
) -> Vec<Key> {
    let mut out = Vec::new();
    if ev.resource == own.group_resource() {
        if needs_reconcile(ev) {
            out.extend(key_of(&ev.object));
        }
        let ready_now =
            ev.kind == EventType::Modified && became_ready(&ev.object, ev.old.as_deref());
        if ready_now && let Some(dep) = key_of(&ev.object) {
            for o in all() {
                if depends_on(&o).contains(&dep) {
                    out.extend(key_of(&o));
                }
            }
        }
    } else if let Some(kind) = source_kind(ev) {
        let revision = |o: &Value| {
            o.pointer("/status/artifact/revision")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let moved = ev.kind != EventType::Deleted
            && ev.old.as_deref().and_then(revision) != revision(&ev.object);
        if moved && let Some(repo) = key_of(&ev.object) {
            for o in all() {
                let uses = SourceRef::of(&o)
                    .is_some_and(|r| r.kind == kind && (r.namespace, r.name) == repo);
                if uses {
                    out.extend(key_of(&o));
                }
            }
        }
    }
    out
}

/// The kind of the source an event concerns: `GitRepository` or
/// `OCIRepository`.
fn source_kind(ev: &Event) -> Option<&'static str> {
    if ev.resource == super::source::gvr().group_resource() {
        Some("GitRepository")
    } else if ev.resource == super::oci_repository::gvr().group_resource() {
        Some("OCIRepository")
    } else {
        None
    }
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

/// True when an update changed what a controller reconciles: the spec
/// (generation), the `requestedAt` annotation, or the start of deletion.
pub fn needs_reconcile(ev: &Event) -> bool {
    match (&ev.kind, &ev.old) {
        (EventType::Added, _) => true,
        (EventType::Deleted, _) => false,
        (EventType::Modified, None) => true,
        (EventType::Modified, Some(old)) => {
            let generation = |o: &Value| o.pointer("/metadata/generation").and_then(Value::as_i64);
            generation(old) != generation(&ev.object)
                || super::status::requested_at(old) != super::status::requested_at(&ev.object)
                || (!deleting(old) && deleting(&ev.object))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventType, old: Option<Value>, new: Value) -> Event {
        Event {
            kind,
            resource: crate::sim::storage::store::GroupResource::new(
                "kustomize.toolkit.fluxcd.io",
                "kustomizations",
            ),
            object: std::sync::Arc::new(new),
            old: old.map(std::sync::Arc::new),
            revision: 1,
        }
    }

    #[test]
    fn woken_are_the_dependents_of_a_ready_object_and_the_users_of_a_moved_source() {
        use serde_json::json;
        let ks = |name: &str, deps: &[&str], ready: bool| {
            json!({"metadata": {"namespace": "flux-system", "name": name, "generation": 1},
                "spec": {"dependsOn": deps.iter().map(|d| json!({"name": d})).collect::<Vec<_>>(),
                    "sourceRef": {"kind": "GitRepository", "name": "flux-system"}},
                "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}})
        };
        let all = || {
            vec![
                Arc::new(ks("infra", &[], true)),
                Arc::new(ks("apps", &["infra"], false)),
                Arc::new(ks("other", &[], false)),
            ]
        };
        let ready = |o: &Value| o["status"]["conditions"][0]["status"] == "True";
        let became_ready = |new: &Value, old: Option<&Value>| ready(new) && !old.is_some_and(ready);
        let own = Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations");
        let key = |n: &str| ("flux-system".to_owned(), n.to_owned());

        // infra turns Ready (status only): apps, which depends on it, wakes.
        let ev = event(
            EventType::Modified,
            Some(ks("infra", &[], false)),
            ks("infra", &[], true),
        );
        assert_eq!(woken(&ev, &own, all, became_ready), vec![key("apps")]);
        // Still Ready, nothing new: nobody wakes.
        let ev = event(
            EventType::Modified,
            Some(ks("infra", &[], true)),
            ks("infra", &[], true),
        );
        assert!(woken(&ev, &own, all, became_ready).is_empty());
        // The GitRepository's artifact revision moved: every user wakes.
        let repo = |rev: &str| {
            json!({"metadata": {"namespace": "flux-system", "name": "flux-system"},
            "status": {"artifact": {"revision": rev}}})
        };
        let ev = Event {
            kind: EventType::Modified,
            resource: crate::sim::storage::store::GroupResource::new(
                "source.toolkit.fluxcd.io",
                "gitrepositories",
            ),
            object: Arc::new(repo("main@sha1:2")),
            old: Some(Arc::new(repo("main@sha1:1"))),
            revision: 2,
        };
        assert_eq!(
            woken(&ev, &own, all, became_ready),
            vec![key("infra"), key("apps"), key("other")]
        );
    }

    #[test]
    fn only_spec_requests_and_deletion_need_a_reconcile() {
        use serde_json::json;
        let base = json!({"metadata": {"generation": 1}, "status": {"x": 1}});
        assert!(needs_reconcile(&event(
            EventType::Added,
            None,
            base.clone()
        )));
        let status_only = json!({"metadata": {"generation": 1}, "status": {"x": 2}});
        assert!(!needs_reconcile(&event(
            EventType::Modified,
            Some(base.clone()),
            status_only
        )));
        let spec = json!({"metadata": {"generation": 2}});
        assert!(needs_reconcile(&event(
            EventType::Modified,
            Some(base.clone()),
            spec
        )));
        let requested = json!({"metadata": {"generation": 1, "annotations": {"reconcile.fluxcd.io/requestedAt": "now"}}});
        assert!(needs_reconcile(&event(
            EventType::Modified,
            Some(base.clone()),
            requested
        )));
        let deleting =
            json!({"metadata": {"generation": 1, "deletionTimestamp": "2026-08-01T10:00:00Z"}});
        assert!(needs_reconcile(&event(
            EventType::Modified,
            Some(base.clone()),
            deleting
        )));
        assert!(!needs_reconcile(&event(EventType::Deleted, None, base)));
    }

    #[test]
    fn backoff_doubles_up_to_fifteen_minutes() {
        assert_eq!(backoff(1), Duration::from_millis(750));
        assert_eq!(backoff(2), Duration::from_millis(1500));
        assert_eq!(backoff(5), Duration::from_secs(12));
        assert_eq!(backoff(40), Duration::from_secs(900));
    }
}
