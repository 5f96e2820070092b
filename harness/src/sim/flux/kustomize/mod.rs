//! The emulated kustomize-controller: reconciles `Kustomization` objects
//! (`kustomize.toolkit.fluxcd.io/v1`) — builds `spec.path` of the source's
//! artifact, applies it with the apply engine as `kustomize-controller`,
//! prunes by inventory, runs health checks and reports Flux's status (see
//! `reconcile.rs`) at `spec.interval` (`retryInterval` after a failure), on
//! `reconcile.fluxcd.io/requestedAt`, when the source has a new revision
//! and when a dependency becomes ready.

pub mod build;
mod deps;
pub mod health;
mod reconcile;

/// The field manager the emulated kustomize-controller applies with.
pub fn reconcile_manager() -> &'static str {
    reconcile::MANAGER
}
pub mod spec;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Pass, Reconciled};
use super::runner::{Key, woken};
use crate::gitops::apply::Applier;
use crate::gitops::render::RenderOptions;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{Event, Gvr, Store, conditions};

/// `kustomizations.kustomize.toolkit.fluxcd.io/v1`.
pub fn gvr() -> Gvr {
    Gvr::new("kustomize.toolkit.fluxcd.io", "v1", "kustomizations")
}

/// The emulated kustomize-controller.
#[derive(Debug)]
pub struct KustomizeController {
    store: Store,
    artifacts: Arc<Artifacts>,
    applier: Applier,
    render: RenderOptions,
    dependency_requeue: Duration,
    apply_concurrency: usize,
}

impl KustomizeController {
    /// A controller for `store`, reading artifacts from `artifacts` and
    /// applying through `applier` (a client of the same cluster).
    pub fn new(
        store: Store,
        artifacts: Arc<Artifacts>,
        applier: Applier,
        render: RenderOptions,
        dependency_requeue: Duration,
        apply_concurrency: usize,
    ) -> KustomizeController {
        KustomizeController {
            store,
            artifacts,
            applier,
            render,
            dependency_requeue,
            apply_concurrency,
        }
    }

    fn all(&self) -> Vec<Arc<Value>> {
        self.store
            .list(&gvr(), None, &Selector::default())
            .map(|l| l.items)
            .unwrap_or_default()
    }
}

fn rev_of(o: &Value, ptr: &str) -> Option<String> {
    o.pointer(ptr).and_then(Value::as_str).map(str::to_owned)
}

fn ready(o: &Value) -> bool {
    conditions::condition_status(o, "Ready") == Some("True")
}

impl Controller for KustomizeController {
    const NAME: &'static str = reconcile::MANAGER;
    const STATUS_MANAGER: &'static str = "gotk-kustomize-controller";

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        // A dependency became ready (or applied a new revision): its
        // dependents need not wait for their requeue.
        let applied = |o: &Value| rev_of(o, "/status/lastAppliedRevision");
        woken(
            ev,
            &gvr(),
            || self.all(),
            |new, old| {
                ready(new) && old.is_none_or(|old| !ready(old) || applied(old) != applied(new))
            },
        )
    }

    /// Garbage-collects the inventory, per `deletionPolicy`.
    async fn cleanup(&self, obj: &Value, (ns, name): &Key) -> Cleanup {
        reconcile::finalize(self, obj, ns, name).await
    }

    fn reconcile(
        &self,
        pass: &mut Pass<'_>,
    ) -> impl std::future::Future<Output = Reconciled> + Send {
        reconcile::reconcile(self, pass)
    }
}
