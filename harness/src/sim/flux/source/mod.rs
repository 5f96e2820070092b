//! The emulated source-controller: reconciles `GitRepository` objects
//! (`source.toolkit.fluxcd.io/v1`) — resolves `spec.ref` against
//! `spec.url` with the real `git`, stores the commit as an artifact and
//! reports it with Flux's status (see `reconcile.rs`), at `spec.interval`
//! and on `reconcile.fluxcd.io/requestedAt`.

mod reconcile;

use std::sync::Arc;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled};
use super::runner::{Key, key_of, needs_reconcile};
use super::status::Working;
use crate::gitops::repo::GitSettings;
use crate::sim::storage::store::{Event, Gvr, Store};

/// `gitrepositories.source.toolkit.fluxcd.io/v1`.
pub fn gvr() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "gitrepositories")
}

/// The emulated source-controller.
#[derive(Debug)]
pub struct SourceController {
    store: Store,
    artifacts: Arc<Artifacts>,
    git: GitSettings,
}

impl SourceController {
    /// A controller for `store`, storing artifacts in `artifacts`.
    pub fn new(store: Store, artifacts: Arc<Artifacts>, git: GitSettings) -> SourceController {
        SourceController {
            store,
            artifacts,
            git,
        }
    }
}

impl Controller for SourceController {
    const NAME: &'static str = "source-controller";
    const STATUS_MANAGER: &'static str = "gotk-source-controller";

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        if ev.resource != gvr().group_resource() || !needs_reconcile(ev) {
            return Vec::new();
        }
        key_of(&ev.object).into_iter().collect()
    }

    /// Drops every artifact of the object.
    async fn cleanup(&self, _obj: &Value, (ns, name): &Key) -> Cleanup {
        self.artifacts.collect_garbage(ns, name, None);
        Cleanup::Done
    }

    fn reconcile(
        &self,
        pass: &mut Pass<'_>,
    ) -> impl std::future::Future<Output = Reconciled> + Send {
        reconcile::reconcile(self, pass)
    }

    /// A source's `Ready` comes with `ArtifactInStorage`, and clears the
    /// failure conditions.
    fn mark_ready(&self, w: &mut Working, ready: &Ready) {
        reconcile::mark_ready(w, ready);
    }

    /// A failed git operation is a fetch failure too (`FetchFailed`).
    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        reconcile::mark_failed(w, failure);
    }
}
