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
    ) -> HelmChartController {
        HelmChartController {
            store,
            artifacts,
            mirrors,
            oci,
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
    /// revision moved (source-controller watches its sources). An OCI
    /// HelmRepository has no artifact: its charts are woken when it is
    /// created or its spec changes. Flux would find it at the chart's next
    /// backoff retry (750 ms on); waking at once keeps a chart applied in
    /// the same Kustomization as its repository from depending on which
    /// of the two the API server stored first, so the same seed gives the
    /// same simulated times.
    fn triggered_by(&self, store: &Store, ev: &Event) -> Vec<Key> {
        woken(ev, |ns| {
            store
                .list(&gvr(), Some(ns), &Selector::default())
                .map(|l| l.items)
                .unwrap_or_default()
        })
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

/// What `ev` wakes (see [`Controller::triggered_by`] above); `charts_in`
/// lists the HelmCharts of a namespace.
fn woken(ev: &Event, charts_in: impl FnOnce(&str) -> Vec<Arc<Value>>) -> Vec<Key> {
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
    let oci = ev.object.pointer("/spec/type").and_then(Value::as_str) == Some("oci");
    let moved = ev.kind != EventType::Deleted
        && (ev.old.as_deref().and_then(revision) != revision(&ev.object)
            || (oci && needs_reconcile(ev)));
    let Some((ns, name)) = key_of(&ev.object).filter(|_| moved) else {
        return Vec::new();
    };
    charts_in(&ns)
        .iter()
        .filter(|c| {
            c.pointer("/spec/sourceRef/kind").and_then(Value::as_str) == Some(kind)
                && c.pointer("/spec/sourceRef/name").and_then(Value::as_str) == Some(name.as_str())
        })
        .filter_map(|c| key_of(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventType, old: Option<Value>, new: Value) -> Event {
        Event {
            kind,
            resource: super::super::helm_repository::gvr().group_resource(),
            object: Arc::new(new),
            old: old.map(Arc::new),
            revision: 1,
        }
    }

    fn charts(_ns: &str) -> Vec<Arc<Value>> {
        let chart = |name: &str, repo: &str| {
            Arc::new(
                json!({"metadata": {"namespace": "flux-system", "name": name},
                "spec": {"sourceRef": {"kind": "HelmRepository", "name": repo}}}),
            )
        };
        vec![chart("a", "charts"), chart("b", "other")]
    }

    fn repo(kind: Option<&str>, generation: i64, revision: Option<&str>) -> Value {
        let mut o = json!({"metadata": {"namespace": "flux-system", "name": "charts", "generation": generation},
            "spec": {"url": "oci://ghcr.io/x"}});
        if let Some(t) = kind {
            o["spec"]["type"] = json!(t);
        }
        if let Some(r) = revision {
            o["status"] = json!({"artifact": {"revision": r}});
        }
        o
    }

    #[test]
    fn an_oci_helm_repository_wakes_its_charts_when_it_appears_or_changes_spec() {
        let key = |n: &str| ("flux-system".to_owned(), n.to_owned());
        // Created: the charts waiting for it are pulled at once, not at
        // their next backoff retry — whichever the API server stored
        // first, the chart is ready at the same simulated instant.
        let added = event(EventType::Added, None, repo(Some("oci"), 1, None));
        assert_eq!(woken(&added, charts), vec![key("a")]);
        let respec = event(
            EventType::Modified,
            Some(repo(Some("oci"), 1, None)),
            repo(Some("oci"), 2, None),
        );
        assert_eq!(woken(&respec, charts), vec![key("a")]);
        // A write that changes neither spec nor artifact wakes nobody.
        let same = event(
            EventType::Modified,
            Some(repo(Some("oci"), 2, None)),
            repo(Some("oci"), 2, None),
        );
        assert!(woken(&same, charts).is_empty());
        // An HTTP repository wakes them when its index artifact moves,
        // not when it is created without one.
        let http = event(EventType::Added, None, repo(None, 1, None));
        assert!(woken(&http, charts).is_empty());
        let fetched = event(
            EventType::Modified,
            Some(repo(None, 1, None)),
            repo(None, 1, Some("sha256:ab")),
        );
        assert_eq!(woken(&fetched, charts), vec![key("a")]);
    }
}
