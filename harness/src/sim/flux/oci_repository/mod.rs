//! The emulated source-controller, `OCIRepository` side
//! (`source.toolkit.fluxcd.io/v1`, and `v1beta2` as Flux 2.6's CRD serves
//! it): resolves `spec.ref` against the registry at `spec.url` — through
//! the run's mirrors, pushed into gameday's own registry, or the real
//! registry ([`crate::gitops::oci`]) — pulls the selected layer, extracts
//! it (or copies it) and stores it as the artifact
//! `ocirepository/<ns>/<name>/sha256:<hex>.tar.gz`, revision
//! `<tag>@sha256:<manifest digest>` (or the digest alone), with Flux's
//! conditions and reasons (see `reconcile.rs`). Kustomizations consume it
//! through `sourceRef`, HelmReleases through `chartRef`.
//!
//! `spec.verify` (cosign/notation signatures) is not emulated: the drill's
//! preflight reports it ([`super::coverage`]) unless the scenario opts out
//! (`spec.cluster.sim.skipVerify`).

mod reconcile;

pub use reconcile::oci_reasons;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled};
use super::runner::{Key, key_of, needs_reconcile};
use super::status::Working;
use crate::gitops::oci::Oci;
use crate::sim::storage::store::{Event, Gvr, Store};

/// `ocirepositories.source.toolkit.fluxcd.io/v1`.
pub fn gvr() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "ocirepositories")
}

/// The artifact kind folder (`ocirepository/<ns>/<name>/…`).
pub const KIND_DIR: &str = "ocirepository";

/// Default `spec.timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The emulated source-controller's OCIRepository reconciler.
#[derive(Debug)]
pub struct OciRepositoryController {
    store: Store,
    artifacts: Arc<Artifacts>,
    oci: Arc<Oci>,
}

impl OciRepositoryController {
    /// A reconciler for `store`, storing artifacts in `artifacts`,
    /// pulling with `oci`.
    pub fn new(store: Store, artifacts: Arc<Artifacts>, oci: Arc<Oci>) -> OciRepositoryController {
        OciRepositoryController {
            store,
            artifacts,
            oci,
        }
    }
}

impl Controller for OciRepositoryController {
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

    /// `NewArtifact` "stored artifact with revision '<rev>' from '<url>'"
    /// (with the origin source and revision the manifest names) when the
    /// revision moved.
    fn ready_event(
        &self,
        pass: &Pass<'_>,
        _ready: &Ready,
        _took: Duration,
    ) -> Option<(&'static str, String)> {
        let rev = |o: &Value| {
            o.pointer("/status/artifact/revision")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let after = rev(&pass.w.obj)?;
        if rev(&pass.obj).as_deref() == Some(after.as_str()) {
            return None;
        }
        let url = pass
            .obj
            .pointer("/spec/url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut msg = format!("stored artifact with revision '{after}' from '{url}'");
        let meta = |k: &str| {
            pass.w
                .obj
                .pointer(&format!(
                    "/status/artifact/metadata/{}",
                    k.replace('/', "~1")
                ))
                .and_then(Value::as_str)
        };
        if let Some(src) = meta("org.opencontainers.image.source") {
            msg.push_str(&format!(", origin source '{src}'"));
        }
        if let Some(r) = meta("org.opencontainers.image.revision") {
            msg.push_str(&format!(", origin revision '{r}'"));
        }
        Some(("NewArtifact", msg))
    }

    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        super::source::mark_failed(w, failure);
    }
}
