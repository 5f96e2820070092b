//! The emulated source-controller: reconciles `GitRepository` objects
//! (`source.toolkit.fluxcd.io/v1`) — resolves `spec.ref` against
//! `spec.url` with the real `git`, stores the commit as an artifact —
//! with `spec.include` copied in and what `.sourceignore` files,
//! `spec.ignore` and the default exclusions leave out removed ([`ignore`])
//! — and reports it with Flux's status (see `reconcile.rs`), at
//! `spec.interval`, on `reconcile.fluxcd.io/requestedAt` and when an
//! included repository's artifact moves.

pub mod ignore;
mod include;
mod reconcile;

pub(crate) use reconcile::{mark_failed, mark_ready, new_generation};

use std::sync::Arc;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled};
use super::runner::{Key, key_of, needs_reconcile};
use super::status::Working;
use crate::gitops::repo::GitSettings;
use crate::sim::storage::selectors::Selector;
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

    fn triggered_by(&self, store: &Store, ev: &Event) -> Vec<Key> {
        if ev.resource != gvr().group_resource() {
            return Vec::new();
        }
        let mut keys = include::includers(ev, || {
            store
                .list(&gvr(), None, &Selector::default())
                .map(|l| l.items)
                .unwrap_or_default()
        });
        if needs_reconcile(ev) {
            keys.extend(key_of(&ev.object));
        }
        keys
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

    /// source-controller records `NewArtifact` when it stored an artifact
    /// of another revision, and nothing for a pass that changed nothing.
    fn ready_event(
        &self,
        pass: &Pass<'_>,
        ready: &Ready,
        _took: std::time::Duration,
    ) -> Option<(&'static str, String)> {
        let before = pass
            .obj
            .pointer("/status/artifact/revision")
            .and_then(serde_json::Value::as_str);
        let after = pass
            .w
            .obj
            .pointer("/status/artifact/revision")
            .and_then(serde_json::Value::as_str);
        (after.is_some() && before != after).then(|| ("NewArtifact", ready.message.clone()))
    }

    /// A failed git operation is a fetch failure too (`FetchFailed`).
    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        reconcile::mark_failed(w, failure);
    }
}
