//! The reconcile skeleton every emulated Flux controller runs on, after
//! kube-runtime's `finalizer.rs`: the part of a reconcile that is the same
//! for every kind lives here, once; each kind supplies its steps.
//!
//! One pass over an object ([`run`]):
//!
//! 1. get it; gone → nothing to do;
//! 2. being deleted → the kind's [`Controller::cleanup`] (run whether or
//!    not the finalizer is still there, as Flux's controllers do), then the
//!    finalizer goes — or it stays and the pass is retried with backoff;
//! 3. add the kind's finalizer when missing (Flux adds it and requeues;
//!    the emulation carries on in the same pass — adding it wakes nobody,
//!    so the result is the same single reconcile);
//! 4. `spec.suspend` → stop;
//! 5. the kind's [`Controller::reconcile`] builds the status on a
//!    [`Working`] copy in a [`Pass`], writing it as it goes
//!    ([`Pass::write`]), and ends with an [`Outcome`] or a [`Failure`];
//! 6. the end is marked ([`Controller::mark_ready`],
//!    [`Controller::mark_failed`]), Flux's `finalizeStatus` runs
//!    (`lastHandledReconcileAt`, `observedGeneration` when Ready,
//!    `Reconciling` → `ProgressingWithRetry` when not) and the status is
//!    written a last time; the runner requeues as the end says.
//!
//! Simulated time: the pass holds the `Busy` guard the runner hands it, so
//! the clock stands still while a controller works (git, rendering,
//! applying, Terraform, status writes); a step that waits for the cluster
//! (health checks) lets go of it only for that wait, through
//! [`Pass::released`].
//!
//! # Why a trait
//! Each kind keeps its own state (store, artifact storage, applier, work
//! folders) and its steps are `async`: a trait with associated constants
//! lets the compiler check that a kind supplies every piece, keeps the
//! futures unboxed, and lets the runner and the skeleton be generic over
//! the kind (monomorphised, no trait objects). A struct of function
//! pointers would need boxed futures and an extra state parameter for
//! every step. The defaults of [`Controller::mark_ready`] and
//! [`Controller::mark_failed`] are Flux's toolkit conventions, so a kind
//! that follows them (Helm, OCI) writes neither.
//!
//! # Adding a kind
//! 1. A folder `sim/flux/<kind>/`: `mod.rs` (the controller struct, its
//!    `gvr()`, `impl Controller`), `spec.rs` (reading the spec, with the
//!    shared [`super::spec`] fields), `reconcile.rs` (the steps, in the
//!    order the real controller runs them — the order decides which reason
//!    a failure reports).
//! 2. [`Controller::NAME`] is its Deployment in the install manifests
//!    ([`crate::flux::install`]): the controller runs only while that
//!    Deployment is available ([`super::activity`]).
//! 3. [`Controller::triggered_by`]: [`super::runner::woken`] for a kind
//!    with `sourceRef` and `dependsOn`, [`super::runner::needs_reconcile`]
//!    otherwise.
//! 4. [`Controller::reconcile`]: one function per step returning
//!    `Result<_, Failure>`, joined with `?`; mark progress and
//!    [`Pass::write`] where Flux writes it; end with [`Outcome::Ready`].
//! 5. [`Controller::cleanup`]: what deleting the object undoes.
//! 6. Start it in [`super::FluxEmulation::start`] with
//!    [`super::runner::spawn`].

use std::future::Future;
use std::sync::Arc;

use serde_json::{Value, json};

use super::runner::{Key, Requeue};
use super::status::{FINALIZER, Working, deleting, suspended, types};
use crate::clock::Busy;
use crate::sim::recorder::{About, EventType, Recorder, go_duration};
use crate::sim::storage::store::{Event, Gvr, ObjectRef, Store, WriteOptions};

/// One emulated Flux controller: what the runner loop needs to drive it
/// and the steps the skeleton runs.
pub trait Controller: Send + Sync + 'static {
    /// Its Deployment's name (`source-controller`…), which is also the
    /// field manager of its finalizer writes.
    const NAME: &'static str;
    /// The field manager of its status writes (Flux's
    /// `gotk-<controller>`).
    const STATUS_MANAGER: &'static str;
    /// The finalizer it puts on its objects (Flux's, unless the real
    /// controller uses another).
    const FINALIZER: &'static str = FINALIZER;

    /// The kind it reconciles.
    fn resource(&self) -> Gvr;
    /// The store its objects live in.
    fn store(&self) -> &Store;
    /// The objects to reconcile because of `ev`.
    fn triggered_by(&self, store: &Store, ev: &Event) -> Vec<Key>;
    /// What deleting `obj` undoes (garbage collection, `terraform
    /// destroy`). Runs for every pass over an object being deleted.
    fn cleanup(&self, obj: &Value, key: &Key) -> impl Future<Output = Cleanup> + Send;
    /// The kind's steps, on the status the pass builds.
    fn reconcile(&self, pass: &mut Pass<'_>) -> impl Future<Output = Reconciled> + Send;

    /// The Event of a successful pass that took `took` (None: no
    /// Event). Flux's convention (kustomize-, helm-, tofu-controller): the
    /// `Ready` reason and `Reconciliation finished in <took>, next run in
    /// <interval>`.
    fn ready_event(
        &self,
        pass: &Pass<'_>,
        ready: &Ready,
        took: std::time::Duration,
    ) -> Option<(&'static str, String)> {
        let _ = pass;
        let next = match ready.requeue {
            Requeue::After(d) => format!(", next run in {}", go_duration(d)),
            _ => String::new(),
        };
        Some((
            ready.reason,
            format!("Reconciliation finished in {}{next}", go_duration(took)),
        ))
    }

    /// Marks a successful end: `Ready=True` with the reason and message,
    /// `Stalled` gone.
    fn mark_ready(&self, w: &mut Working, ready: &Ready) {
        w.mark(types::READY, "True", ready.reason, &ready.message);
        w.clear(types::STALLED);
    }

    /// Marks a failure: `Stalled=True` first when it stalls, then
    /// `Ready=False`; `Reconciling` stays, for `finalizeStatus` to turn
    /// into `ProgressingWithRetry`.
    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        if failure.stalled {
            w.mark(types::STALLED, "True", failure.reason, &failure.message);
        }
        w.fail(failure.reason, &failure.message);
    }
}

/// What a kind's steps come to: an [`Outcome`], or a [`Failure`] (so that
/// `?` ends the pass at the first failing step).
pub type Reconciled = Result<Outcome, Failure>;

/// How a pass ended when nothing failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Reconciled: `Ready=True`.
    Ready(Ready),
    /// Neither ready nor failed: waiting for something outside the
    /// controller (the tofu-controller's plan waiting for approval). The
    /// status stays as the steps marked it; again after this.
    Waiting(Requeue),
}

/// A successful end: Flux's reason and message for `Ready=True`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ready {
    /// The `Ready` reason (`ReconciliationSucceeded`…).
    pub reason: &'static str,
    /// The `Ready` message (`Applied revision: main@sha1:…`).
    pub message: String,
    /// The source revision reconciled, for kinds that record it with
    /// `Ready` (the tofu-controller's `lastAttemptedRevision`); Flux's
    /// toolkit controllers record their revisions as they go.
    pub revision: Option<String>,
    /// When to reconcile again (the kind's `spec.interval`).
    pub requeue: Requeue,
}

impl Ready {
    /// `Ready=True` with `reason` and `message`; again after `requeue`.
    pub fn new(reason: &'static str, message: impl Into<String>, requeue: Requeue) -> Ready {
        Ready {
            reason,
            message: message.into(),
            revision: None,
            requeue,
        }
    }

    /// The same, for source revision `revision`.
    #[must_use]
    pub fn of(mut self, revision: &str) -> Ready {
        self.revision = Some(revision.to_owned());
        self
    }

    /// As an [`Outcome`].
    pub fn done(self) -> Reconciled {
        Ok(Outcome::Ready(self))
    }
}

/// A step that failed: Flux's reason and message for `Ready=False`,
/// whether the object is stalled (nothing will change until its spec
/// does), and when to try again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct Failure {
    /// The `Ready` reason (`ArtifactFailed`, `BuildFailed`…).
    pub reason: &'static str,
    /// The `Ready` message, Flux's words.
    pub message: String,
    /// When to try again: `retryInterval`, the dependency requeue,
    /// controller-runtime's backoff, or never.
    pub requeue: Requeue,
    /// `Stalled=True` too (an invalid spec).
    pub stalled: bool,
    /// The source revision attempted, for kinds that record it with
    /// `Ready` (see [`Ready::revision`]).
    pub revision: Option<String>,
    /// Record a Warning Event with the reason and message (false when the
    /// kind's steps recorded their own, as helm-controller's actions do).
    pub event: bool,
}

impl Failure {
    /// `Ready=False` with `reason` and `message`; again after `requeue`.
    pub fn new(reason: &'static str, message: impl Into<String>, requeue: Requeue) -> Failure {
        Failure {
            reason,
            message: message.into(),
            requeue,
            stalled: false,
            revision: None,
            event: true,
        }
    }

    /// The same, without the Warning Event (the steps recorded theirs).
    #[must_use]
    pub fn quiet(mut self) -> Failure {
        self.event = false;
        self
    }

    /// `Stalled=True` and `Ready=False`: only a change of the object
    /// reconciles it again.
    pub fn stalled(reason: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            stalled: true,
            ..Failure::new(reason, message, Requeue::Never)
        }
    }

    /// The same, for source revision `revision`.
    #[must_use]
    pub fn of(mut self, revision: &str) -> Failure {
        self.revision = Some(revision.to_owned());
        self
    }
}

/// What a deleted object's cleanup came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleanup {
    /// Done (or given up on): the finalizer goes.
    Done,
    /// Not done: the finalizer stays, and the pass is retried with
    /// backoff.
    Retry,
}

/// One pass over one object: the object as read, the status the steps
/// build, and the `Busy` guard of the pass.
#[derive(Debug)]
pub struct Pass<'a> {
    store: &'a Store,
    events: &'a Recorder,
    r: ObjectRef,
    status_manager: &'static str,
    /// The object as read at the start of the pass.
    pub obj: Arc<Value>,
    /// Its status, as the steps build it.
    pub w: Working,
    busy: Busy,
}

impl<'a> Pass<'a> {
    /// The store.
    pub fn store(&self) -> &'a Store {
        self.store
    }

    /// Records an Event about the object, as the controller (Flux's
    /// `event` helper: Normal for info, Warning for errors).
    pub fn event(&self, type_: EventType, reason: &str, message: &str) {
        self.events
            .record(About::object(&self.obj), type_, reason, message);
    }

    /// The object's namespace.
    pub fn namespace(&self) -> &str {
        self.r.namespace.as_deref().unwrap_or_default()
    }

    /// The object's name.
    pub fn name(&self) -> &str {
        &self.r.name
    }

    /// Writes the status built so far to the status subresource, as the
    /// controller's status manager (a missing object is not an error: the
    /// next event tells). Only onto the object this pass reconciled: when
    /// it was deleted and one of the same name created meanwhile (a
    /// `controller-loss` and the re-install at the same instant), the old
    /// pass's status — `Ready=True` at the same generation — would make
    /// the new object look reconciled before anything reconciled it.
    pub fn write(&self) {
        let status = self
            .w
            .obj
            .get("status")
            .cloned()
            .unwrap_or_else(|| json!({}));
        let uid = self.obj.pointer("/metadata/uid").cloned();
        let gr = self.r.gvr.group_resource();
        let _ = self.store.mutate(
            &self.r,
            true,
            &WriteOptions::manager(self.status_manager),
            |o| {
                if uid.is_some() && o.pointer("/metadata/uid") != uid.as_ref() {
                    return Err(crate::sim::storage::status::ApiError::conflict_msg(
                        &gr,
                        &self.r.name,
                        "the object was replaced since it was read (uid differs)",
                    ));
                }
                o["status"] = status;
                Ok(())
            },
        );
    }

    /// Runs `wait` with the pass's `Busy` guard, which `wait` lets go of
    /// while simulated time passes and hands back (held) when done; the
    /// pass holds that one from then on.
    pub async fn released<T, F>(&mut self, wait: impl FnOnce(Busy) -> F) -> T
    where
        F: Future<Output = (T, Busy)>,
    {
        let busy = std::mem::replace(&mut self.busy, Busy::none());
        let (out, held) = wait(busy).await;
        self.busy = held;
        out
    }
}

/// One reconcile of `key` by `ctl`, holding `busy` (see the module docs);
/// returns when to reconcile again and the guard it holds at the end.
pub async fn run<C: Controller>(
    ctl: &C,
    key: Key,
    busy: Busy,
    events: &Recorder,
) -> (Requeue, Busy) {
    let store = ctl.store();
    let r = ObjectRef::namespaced(ctl.resource(), &key.0, &key.1);
    let Ok(obj) = store.get(&r) else {
        return (Requeue::Never, busy);
    };
    if deleting(&obj) {
        let requeue = match ctl.cleanup(&obj, &key).await {
            Cleanup::Done => {
                set_finalizer::<C>(store, &r, false);
                Requeue::Never
            }
            Cleanup::Retry => Requeue::Backoff,
        };
        return (requeue, busy);
    }
    if !has_finalizer(&obj, C::FINALIZER) {
        set_finalizer::<C>(store, &r, true);
    }
    if suspended(&obj) {
        return (Requeue::Never, busy);
    }
    let started = store.clock().now();
    let mut pass = Pass {
        store,
        events,
        r,
        status_manager: C::STATUS_MANAGER,
        w: Working::new(&obj, store.now_rfc3339()),
        obj,
        busy,
    };
    let requeue = match ctl.reconcile(&mut pass).await {
        Ok(Outcome::Ready(ready)) => {
            ctl.mark_ready(&mut pass.w, &ready);
            let took = crate::clock::duration_between(started, store.clock().now());
            if let Some((reason, message)) = ctl.ready_event(&pass, &ready, took) {
                pass.event(EventType::Normal, reason, &message);
            }
            ready.requeue
        }
        Ok(Outcome::Waiting(requeue)) => requeue,
        Err(failure) => {
            ctl.mark_failed(&mut pass.w, &failure);
            if failure.event {
                pass.event(EventType::Warning, failure.reason, &failure.message);
            }
            tracing::debug!(
                controller = C::NAME,
                object = %format!("{}/{}", key.0, key.1),
                reason = failure.reason,
                message = %failure.message,
                "reconciliation failed"
            );
            failure.requeue
        }
    };
    pass.w.finalize();
    pass.write();
    (requeue, pass.busy)
}

/// True when `obj` carries `finalizer`.
pub fn has_finalizer(obj: &Value, finalizer: &str) -> bool {
    obj.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|f| f.iter().any(|x| x.as_str() == Some(finalizer)))
}

/// Adds or removes `C`'s finalizer, as `C`; writes nothing when it is
/// already so.
fn set_finalizer<C: Controller>(store: &Store, r: &ObjectRef, present: bool) {
    let _ = store.mutate(r, false, &WriteOptions::manager(C::NAME), |o| {
        let has = has_finalizer(o, C::FINALIZER);
        match (present, has) {
            (true, false) => match o
                .pointer_mut("/metadata/finalizers")
                .and_then(Value::as_array_mut)
            {
                Some(f) => f.push(json!(C::FINALIZER)),
                None => o["metadata"]["finalizers"] = json!([C::FINALIZER]),
            },
            (false, true) => {
                if let Some(f) = o
                    .pointer_mut("/metadata/finalizers")
                    .and_then(Value::as_array_mut)
                {
                    f.retain(|x| x.as_str() != Some(C::FINALIZER));
                }
            }
            _ => {}
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::clock::Clock;
    use crate::sim::flux::status::reasons;
    use crate::sim::storage::kinds::{Registry, ResourceType, VersionInfo};
    use crate::sim::storage::store::{DeleteOptions, StoreOptions, conditions};

    fn gvr() -> Gvr {
        Gvr::new("test.gameday.dev", "v1", "widgets")
    }

    /// A kind whose steps mark progress, write it, and end as told.
    struct Fake {
        store: Store,
        end: Reconciled,
        cleanup: Cleanup,
        cleaned: AtomicUsize,
        events: Recorder,
        /// Deletes the object and creates another of the same name while
        /// the pass runs (a `controller-loss` and a re-install).
        replace: bool,
    }

    impl Controller for Fake {
        const NAME: &'static str = "widget-controller";
        const STATUS_MANAGER: &'static str = "gotk-widget-controller";

        fn resource(&self) -> Gvr {
            gvr()
        }

        fn store(&self) -> &Store {
            &self.store
        }

        fn triggered_by(&self, _store: &Store, _ev: &Event) -> Vec<Key> {
            Vec::new()
        }

        async fn cleanup(&self, _obj: &Value, _key: &Key) -> Cleanup {
            self.cleaned.fetch_add(1, Ordering::SeqCst);
            self.cleanup
        }

        async fn reconcile(&self, pass: &mut Pass<'_>) -> Reconciled {
            if self.replace {
                let r = ObjectRef::namespaced(gvr(), "t", "w");
                let opts = WriteOptions::default();
                self.store
                    .mutate(&r, false, &opts, |o| {
                        o["metadata"]["finalizers"] = json!([]);
                        Ok(())
                    })
                    .unwrap();
                self.store.delete(&r, &DeleteOptions::default()).unwrap();
                let again = json!({"apiVersion": "test.gameday.dev/v1", "kind": "Widget",
                    "metadata": {"name": "w"}, "spec": {}});
                self.store.create(&gvr(), Some("t"), again, &opts).unwrap();
            }
            pass.w
                .mark(types::RECONCILING, "True", reasons::PROGRESSING, "working");
            pass.write();
            self.end.clone()
        }
    }

    fn fake(end: Reconciled, spec: Value) -> Fake {
        let store = Store::new(
            Registry::with_builtins(),
            Clock::wall(),
            StoreOptions::default(),
        );
        store.registry().register(ResourceType {
            group: "test.gameday.dev".into(),
            versions: vec![VersionInfo {
                name: "v1".into(),
                printer_columns: Vec::new(),
                schema: None,
            }],
            plural: "widgets".into(),
            singular: "widget".into(),
            kind: "Widget".into(),
            list_kind: "WidgetList".into(),
            namespaced: true,
            short_names: Vec::new(),
            categories: Vec::new(),
            status: true,
            scale: None,
            custom: true,
            delete_collection: true,
        });
        let opts = WriteOptions::default();
        let ns = json!({"metadata": {"name": "t"}});
        store
            .create(&Gvr::core("namespaces"), None, ns, &opts)
            .unwrap();
        let widget = json!({"apiVersion": "test.gameday.dev/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "spec": spec});
        store.create(&gvr(), Some("t"), widget, &opts).unwrap();
        Fake {
            events: Recorder::new(store.clone(), "widget-controller", "widget-controller"),
            store,
            end,
            cleanup: Cleanup::Done,
            cleaned: AtomicUsize::new(0),
            replace: false,
        }
    }

    fn key() -> Key {
        ("t".to_owned(), "w".to_owned())
    }

    fn widget(f: &Fake) -> Option<Arc<Value>> {
        f.store.get(&ObjectRef::namespaced(gvr(), "t", "w")).ok()
    }

    fn condition<'a>(obj: &'a Value, type_: &str) -> Option<&'a Value> {
        obj.pointer("/status/conditions")?
            .as_array()?
            .iter()
            .find(|c| c["type"] == type_)
    }

    #[tokio::test]
    async fn a_ready_pass_adds_the_finalizer_and_records_the_generation() {
        let interval = Requeue::After(Duration::from_secs(60));
        let end = Ready::new(reasons::SUCCEEDED, "done", interval).done();
        let f = fake(end, json!({}));
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, interval);
        let w = widget(&f).unwrap();
        assert_eq!(w["metadata"]["finalizers"], json!([FINALIZER]));
        let ready = condition(&w, types::READY).unwrap();
        assert_eq!(
            (&ready["status"], &ready["reason"], &ready["message"]),
            (&json!("True"), &json!(reasons::SUCCEEDED), &json!("done"))
        );
        assert!(condition(&w, types::RECONCILING).is_none());
        assert_eq!(w["status"]["observedGeneration"], 1);
        let managers: Vec<&str> = w["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["manager"].as_str())
            .collect();
        assert!(managers.contains(&Fake::NAME), "{managers:?}");
        assert!(managers.contains(&Fake::STATUS_MANAGER), "{managers:?}");
        let ev = events(&f);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(
            (
                &ev[0]["type"],
                &ev[0]["reason"],
                &ev[0]["involvedObject"]["kind"]
            ),
            (
                &json!("Normal"),
                &json!(reasons::SUCCEEDED),
                &json!("Widget")
            )
        );
        let message = ev[0]["message"].as_str().unwrap();
        assert!(
            message.starts_with("Reconciliation finished in ")
                && message.ends_with(", next run in 1m0s"),
            "{message}"
        );
        assert_eq!(ev[0]["source"]["component"], Fake::NAME);
    }

    #[tokio::test]
    async fn a_pass_never_writes_its_status_onto_a_new_object_of_the_same_name() {
        let interval = Requeue::After(Duration::from_secs(60));
        let end = Ready::new(reasons::SUCCEEDED, "done", interval).done();
        let mut f = fake(end, json!({}));
        f.replace = true;
        let old = widget(&f).unwrap()["metadata"]["uid"].clone();
        drop(run(&f, key(), Busy::none(), &f.events).await);
        let w = widget(&f).unwrap();
        assert_ne!(w["metadata"]["uid"], old, "the object was replaced");
        assert!(
            condition(&w, types::READY).is_none() && condition(&w, types::RECONCILING).is_none(),
            "the old pass's status landed on the new object: {w}"
        );
    }

    fn events(f: &Fake) -> Vec<Arc<Value>> {
        f.store
            .list(&Gvr::core("events"), Some("t"), &Default::default())
            .unwrap()
            .items
    }

    #[tokio::test]
    async fn a_failure_is_ready_false_and_retries_as_it_says() {
        let end = Err(Failure::new(
            reasons::BUILD_FAILED,
            "boom",
            Requeue::Backoff,
        ));
        let f = fake(end, json!({}));
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, Requeue::Backoff);
        let w = widget(&f).unwrap();
        assert_eq!(
            conditions::condition_status(&w, types::READY),
            Some("False")
        );
        assert_eq!(
            condition(&w, types::READY).unwrap()["reason"],
            reasons::BUILD_FAILED
        );
        assert_eq!(
            condition(&w, types::RECONCILING).unwrap()["reason"],
            reasons::PROGRESSING_WITH_RETRY
        );
        assert!(condition(&w, types::STALLED).is_none());
        assert!(w["status"].get("observedGeneration").is_none());
        let ev = events(&f);
        assert_eq!(
            (&ev[0]["type"], &ev[0]["reason"], &ev[0]["message"]),
            (
                &json!("Warning"),
                &json!(reasons::BUILD_FAILED),
                &json!("boom")
            )
        );
    }

    #[tokio::test]
    async fn a_stalled_failure_is_never_retried() {
        let end = Err(Failure::stalled("InvalidSpec", "bad spec"));
        let f = fake(end, json!({}));
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, Requeue::Never);
        let w = widget(&f).unwrap();
        let stalled = condition(&w, types::STALLED).unwrap();
        assert_eq!(
            (&stalled["status"], &stalled["message"]),
            (&json!("True"), &json!("bad spec"))
        );
    }

    #[tokio::test]
    async fn a_suspended_object_gets_the_finalizer_and_nothing_else() {
        let end = Ok(Outcome::Waiting(Requeue::Backoff));
        let f = fake(end, json!({"suspend": true}));
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, Requeue::Never);
        let w = widget(&f).unwrap();
        assert_eq!(w["metadata"]["finalizers"], json!([FINALIZER]));
        assert!(
            w.get("status")
                .is_none_or(|s| s.get("conditions").is_none())
        );
    }

    #[tokio::test]
    async fn deletion_cleans_up_then_drops_the_finalizer_or_retries() {
        let end = Ok(Outcome::Waiting(Requeue::Never));
        let mut f = fake(end, json!({}));
        let _ = run(&f, key(), Busy::none(), &f.events).await;
        let r = ObjectRef::namespaced(gvr(), "t", "w");
        f.store.delete(&r, &DeleteOptions::default()).unwrap();

        f.cleanup = Cleanup::Retry;
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, Requeue::Backoff);
        assert_eq!(
            widget(&f).unwrap()["metadata"]["finalizers"],
            json!([FINALIZER])
        );

        f.cleanup = Cleanup::Done;
        let (requeue, _busy) = run(&f, key(), Busy::none(), &f.events).await;
        assert_eq!(requeue, Requeue::Never);
        assert!(
            widget(&f).is_none(),
            "the finalizer went, so did the object"
        );
        assert_eq!(f.cleaned.load(Ordering::SeqCst), 2);
    }
}
