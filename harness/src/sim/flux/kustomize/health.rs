//! Health checks of the emulated kustomize-controller: the apply engine's
//! [`Tracker`] (kstatus' rules, or the Kustomization's `healthCheckExprs`
//! for the kinds they name) fed from the store's event stream, so that every event that
//! makes an object healthy is seen with the simulated clock held still,
//! and the timeout runs on the cluster's clock.

use std::time::Duration;

use serde_json::Value;

use crate::clock::Busy;
use crate::flux::health_exprs::HealthExprs;
use crate::gitops::apply::wait::Tracker;
use crate::gitops::apply::{Error, ObjectId};
use crate::sim::storage::store::{EventFilter, EventType, ObjectRef, Store};

fn current(store: &Store, id: &ObjectId) -> Option<std::sync::Arc<Value>> {
    let rt = store.registry().by_kind(&id.group, &id.kind)?;
    let r = match (&id.namespace, rt.namespaced) {
        (Some(ns), true) => ObjectRef::namespaced(rt.preferred_gvr(), ns, &id.name),
        _ => ObjectRef::cluster(rt.preferred_gvr(), &id.name),
    };
    store.get(&r).ok()
}

fn id_of(group: &str, obj: &Value) -> ObjectId {
    let s = |p: &str| obj.pointer(p).and_then(Value::as_str).map(str::to_owned);
    ObjectId {
        group: group.to_owned(),
        kind: s("/kind").unwrap_or_default(),
        namespace: s("/metadata/namespace"),
        name: s("/metadata/name").unwrap_or_default(),
    }
}

/// Waits until every target is healthy, at most `timeout` of simulated
/// time, failing early when one fails. Takes the caller's guard, lets go of
/// it while waiting, and returns the guard it holds at the end with the
/// simulated time the checks took.
pub async fn wait(
    store: &Store,
    targets: &[ObjectId],
    exprs: &HealthExprs,
    timeout: Duration,
    busy: Busy,
) -> (Result<Duration, Error>, Busy) {
    let clock = store.clock().clone();
    let started = clock.now();
    let mut tracker = Tracker::new(targets).with_exprs(exprs.clone());
    let mut sub = store.subscribe(EventFilter::all());
    for id in targets {
        tracker.observe(id, current(store, id).as_deref());
    }
    let verdict = |tracker: &Tracker| -> Option<Result<(), Error>> {
        if tracker.all_ready() {
            return Some(Ok(()));
        }
        let failed = tracker.failed();
        (!failed.is_empty()).then_some(Err(Error::HealthFailed { failed }))
    };
    if let Some(v) = verdict(&tracker) {
        return (v.map(|()| Duration::ZERO), busy);
    }
    drop(busy);
    let deadline = clock.sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            biased;
            d = sub.recv() => {
                let Some(d) = d else {
                    return (Err(Error::HealthTimeout { pending: tracker.unhealthy(), after: timeout }), clock.busy());
                };
                let id = id_of(&d.event.resource.group, &d.event.object);
                if tracker.tracks(&id) {
                    let obj = (d.event.kind != EventType::Deleted).then_some(&*d.event.object);
                    tracker.observe(&id, obj);
                    if let Some(v) = verdict(&tracker) {
                        return (v.map(|()| clock.since(started)), d.busy);
                    }
                }
            }
            busy = &mut deadline => {
                return (Err(Error::HealthTimeout { pending: tracker.unhealthy(), after: timeout }), busy);
            }
        }
    }
}
