//! The emulated source-controller, `HelmChart` side
//! (`source.toolkit.fluxcd.io/v1`): the chart a HelmRelease installs,
//! written by the emulated helm-controller from its `spec.chart` template
//! (as Flux does) or by hand. Its source is a `HelmRepository` (the chart
//! version chosen in the stored index by `spec.version`, the archive
//! pulled through the run's mirrors or over HTTP(S) and checked against
//! the index's digest) or a `GitRepository` (the folder `spec.chart` of its
//! artifact, packaged). The artifact is `helmchart/<ns>/<name>/<chart>-
//! <version>.tgz` and its unpacked tree next to it, which the emulated
//! helm-controller hands to the real `helm`. Steps, conditions and
//! revisions: `reconcile.rs`.
//!
//! `valuesFiles` are merged into the packaged chart's `values.yaml` (paths
//! in the chart for a HelmRepository, in the source for a GitRepository),
//! `reconcileStrategy: Revision` adds the commit to a Git chart's version.
//! Not emulated (the preflight says so, [`super::coverage`]): `Bucket`
//! sources, `verify`.

mod reconcile;

pub(crate) use reconcile::set_version;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled};
use super::runner::{Key, key_of, needs_reconcile};
use super::status::Working;
use crate::gitops::mirror::Mirrors;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{Event, EventType, Gvr, Store};

/// `helmcharts.source.toolkit.fluxcd.io/v1`.
pub fn gvr() -> Gvr {
    Gvr::new("source.toolkit.fluxcd.io", "v1", "helmcharts")
}

/// The artifact kind folder (`helmchart/<ns>/<name>/…`).
pub const KIND_DIR: &str = "helmchart";

/// The emulated source-controller's HelmChart reconciler.
#[derive(Debug)]
pub struct HelmChartController {
    store: Store,
    artifacts: Arc<Artifacts>,
    mirrors: Mirrors,
    oci: Arc<crate::gitops::oci::Oci>,
    dependency_requeue: Duration,
}

impl HelmChartController {
    /// A reconciler for `store`, reading sources' artifacts from and
    /// storing charts in `artifacts`, pulling through `mirrors` (HTTP(S)
    /// repositories) and `oci` (OCI ones).
    pub fn new(
        store: Store,
        artifacts: Arc<Artifacts>,
        mirrors: Mirrors,
        oci: Arc<crate::gitops::oci::Oci>,
        dependency_requeue: Duration,
    ) -> HelmChartController {
        HelmChartController {
            store,
            artifacts,
            mirrors,
            oci,
            dependency_requeue,
        }
    }
}

impl Controller for HelmChartController {
    const NAME: &'static str = "source-controller";
    const STATUS_MANAGER: &'static str = "gotk-source-controller";

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
    }

    /// Its own changes, and the HelmCharts of a source whose artifact
    /// revision moved (source-controller watches its sources).
    fn triggered_by(&self, store: &Store, ev: &Event) -> Vec<Key> {
        if ev.resource == gvr().group_resource() {
            return needs_reconcile(ev)
                .then(|| key_of(&ev.object))
                .flatten()
                .into_iter()
                .collect();
        }
        let kind = if ev.resource == super::helm_repository::gvr().group_resource() {
            "HelmRepository"
        } else if ev.resource == super::source::gvr().group_resource() {
            "GitRepository"
        } else {
            return Vec::new();
        };
        let revision = |o: &Value| {
            o.pointer("/status/artifact/revision")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let moved = ev.kind != EventType::Deleted
            && ev.old.as_deref().and_then(revision) != revision(&ev.object);
        let Some((ns, name)) = key_of(&ev.object).filter(|_| moved) else {
            return Vec::new();
        };
        let charts = store
            .list(&gvr(), Some(&ns), &Selector::default())
            .map(|l| l.items)
            .unwrap_or_default();
        charts
            .iter()
            .filter(|c| {
                c.pointer("/spec/sourceRef/kind").and_then(Value::as_str) == Some(kind)
                    && c.pointer("/spec/sourceRef/name").and_then(Value::as_str)
                        == Some(name.as_str())
            })
            .filter_map(|c| key_of(c))
            .collect()
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

    /// `ChartPullSucceeded`/`ChartPackageSucceeded` Events when the
    /// artifact changed.
    fn ready_event(
        &self,
        pass: &Pass<'_>,
        ready: &Ready,
        _took: Duration,
    ) -> Option<(&'static str, String)> {
        let rev = |o: &Value| {
            o.pointer("/status/artifact/digest")
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let after = rev(&pass.w.obj);
        (after.is_some() && rev(&pass.obj) != after).then(|| (ready.reason, ready.message.clone()))
    }

    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        super::source::mark_failed(w, failure);
    }
}
