//! The emulated source-controller, `HelmRepository` side
//! (`source.toolkit.fluxcd.io/v1`, type `default`): fetches
//! `<spec.url>/index.yaml` — through the run's mirrors
//! ([`crate::gitops::mirror`]), or over HTTP(S) — and stores it as the
//! artifact `helmrepository/<ns>/<name>/index-<sha256>.yaml`, revision
//! `sha256:<hex>` of the index, with Flux's conditions and reasons (see
//! `reconcile.rs`). A mirror folder without `index.yaml` is indexed as
//! `helm repo index` would index it.
//!
//! `type: oci` HelmRepositories are static, as in Flux: no artifact, an
//! empty status; the HelmCharts that use them pull from the registry
//! ([`super::helm_chart`]).

mod reconcile;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled};
use super::runner::{Key, key_of, needs_reconcile};
use super::status::Working;
use crate::gitops::mirror::Mirrors;
use crate::sim::storage::store::{Event, Gvr, Store};

/// `helmrepositories.source.toolkit.fluxcd.io/v1`.
pub fn gvr() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "helmrepositories")
}

/// The artifact kind folder (`helmrepository/<ns>/<name>/…`).
pub const KIND_DIR: &str = "helmrepository";

/// The emulated source-controller's HelmRepository reconciler.
#[derive(Debug)]
pub struct HelmRepositoryController {
    store: Store,
    artifacts: Arc<Artifacts>,
    mirrors: Mirrors,
    /// Indexes gameday wrote for mirror folders without one, by folder.
    generated: tokio::sync::Mutex<std::collections::HashMap<std::path::PathBuf, Vec<u8>>>,
}

impl HelmRepositoryController {
    /// A reconciler for `store`, storing artifacts in `artifacts`,
    /// fetching through `mirrors`.
    pub fn new(
        store: Store,
        artifacts: Arc<Artifacts>,
        mirrors: Mirrors,
    ) -> HelmRepositoryController {
        HelmRepositoryController {
            store,
            artifacts,
            mirrors,
            generated: tokio::sync::Mutex::default(),
        }
    }
}

/// Default `spec.timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl Controller for HelmRepositoryController {
    const NAME: &'static str = "source-controller";
    const STATUS_MANAGER: &'static str = "gotk-source-controller";

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        if ev.resource == gvr().group_resource() && needs_reconcile(ev) {
            return key_of(&ev.object).into_iter().collect();
        }
        Vec::new()
    }

    /// Drops every artifact of the object.
    async fn cleanup(&self, _obj: &Value, (ns, name): &Key) -> Cleanup {
        self.artifacts.collect_garbage_of(KIND_DIR, ns, name, None);
        Cleanup::Done
    }

    fn reconcile(
        &self,
        pass: &mut Pass<'_>,
    ) -> impl std::future::Future<Output = Reconciled> + Send {
        reconcile::reconcile(self, pass)
    }

    fn mark_ready(&self, w: &mut Working, ready: &Ready) {
        super::source::mark_ready(w, ready);
    }

    /// source-controller records `NewArtifact` when the index changed.
    fn ready_event(
        &self,
        pass: &Pass<'_>,
        ready: &Ready,
        _took: Duration,
    ) -> Option<(&'static str, String)> {
        let rev = |o: &Value| {
            o.pointer("/status/artifact/revision")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let after = rev(&pass.w.obj);
        (after.is_some() && rev(&pass.obj) != after).then(|| ("NewArtifact", ready.message.clone()))
    }

    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        super::source::mark_failed(w, failure);
    }
}
