//! The emulated source-controller: reconciles `GitRepository` objects
//! (`source.toolkit.fluxcd.io/v1`) — resolves `spec.ref` against
//! `spec.url` with the real `git`, stores the commit as an artifact and
//! reports it with Flux's status (see `reconcile.rs`), at `spec.interval`
//! and on `reconcile.fluxcd.io/requestedAt`.

mod reconcile;

use std::sync::Arc;

use super::artifacts::Artifacts;
use super::runner::{Controller, Key, Requeue, key_of, needs_reconcile};
use crate::clock::Busy;
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
    fn name(&self) -> &'static str {
        "source-controller"
    }

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        if ev.resource != gvr().group_resource() || !needs_reconcile(ev) {
            return Vec::new();
        }
        key_of(&ev.object).into_iter().collect()
    }

    fn reconcile(
        &self,
        key: Key,
        busy: Busy,
    ) -> impl std::future::Future<Output = (Requeue, Busy)> + Send {
        reconcile::reconcile(self, key, busy)
    }
}
