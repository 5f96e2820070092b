//! The emulated helm-controller: reconciles `HelmRelease` objects
//! (`helm.toolkit.fluxcd.io/v2`) — their `spec.chart` template becomes a
//! `HelmChart` ([`chart_template`]) which the emulated source-controller
//! builds from a `GitRepository` folder or pulls from a `HelmRepository`
//! ([`super::helm_chart`]) — by running the
//! real `helm` CLI ([`crate::gitops::helm`]) against the simulator's API
//! while holding the controller's busy guard, then waiting for the
//! release's objects to be healthy on the simulated clock with the
//! kustomize-controller's health checks — so `helm list -A`, `helm
//! history` and `helm get values` work against the simulated cluster, and
//! Helm keeps its own release storage (`sh.helm.release.v1.*` Secrets).
//!
//! Here: the controller and its part of the reconcile skeleton
//! ([`crate::sim::flux::reconcile`]); `reconcile.rs`, the steps in
//! helm-controller's order up to the release; `atomic.rs`, helm-controller's
//! atomic release (the state of the release, the next action, the `Ready`
//! summary); `actions.rs`, install/upgrade, test, rollback and uninstall
//! remediation, drift correction; `release.rs`, the Helm commands, the
//! release storage and the health of what Helm applied; `history.rs`,
//! `status.history`; `crds.rs`, the CRD policies; `drift.rs`, drift
//! detection; `storage.rs`, Helm's storage marked failed; `testpods.rs`,
//! `helm test` on the simulated clock; `summary.rs`, `Ready`;
//! [`reasons`]; [`options`] (remediation, CRDs, waits, tests, drift,
//! timeouts); [`spec`]; [`values`] (`values` and `valuesFrom`).
//!
//! Differences from helm-controller (documented in the README): Helm runs without `--wait` and the
//! health checks follow it, so a release whose objects never become
//! healthy is marked `failed` in Helm's storage by the controller
//! (`storage.rs`), as Helm's `--wait` would leave it; drift is judged on
//! the fields the manifest sets, not by a dry-run server-side apply; a
//! release stuck `pending-*` is not unlocked; no post-renderers or the
//! rarer action options (the drill's preflight refuses sources that use
//! them, [`super::coverage`]);
//! `status.history` snapshots have no manifest digest.

mod actions;
mod atomic;
pub mod chart_ref;
pub mod chart_template;
mod crds;
mod drift;
mod history;
pub mod options;
pub mod reasons;
pub mod reconcile;
mod release;
pub mod spec;
mod storage;
mod summary;
mod testpods;
pub mod values;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Pass, Reconciled};
use super::runner::{Key, woken};
use crate::process::Lookup;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{Event, Gvr, Store, conditions};

/// `helmreleases.helm.toolkit.fluxcd.io/v2`.
pub fn gvr() -> Gvr {
    Gvr::new("helm.toolkit.fluxcd.io", "v2", "helmreleases")
}

/// The controller's name (its Deployment in `flux-system`).
pub const NAME: &str = "helm-controller";

/// How the emulated helm-controller runs.
#[derive(Debug, Clone, Default)]
pub struct HelmOptions {
    /// Where its kubeconfig is written (a temporary folder when None).
    pub work_dir: Option<PathBuf>,
    /// How `helm` is found (`GAMEDAY_HELM`, `PATH`, `.tools/bin`).
    pub lookup: Lookup,
}

/// The emulated helm-controller.
#[derive(Debug)]
pub struct HelmController {
    store: Store,
    artifacts: Arc<Artifacts>,
    lookup: Lookup,
    /// A kubeconfig of the simulated cluster, for helm.
    kubeconfig: PathBuf,
    dependency_requeue: Duration,
    _temp: Option<tempfile::TempDir>,
}

impl HelmController {
    /// A controller for `cluster`, reading charts from `artifacts`.
    ///
    /// # Errors
    /// When the work folder or the kubeconfig cannot be written.
    pub fn new(
        cluster: &crate::sim::SimCluster,
        artifacts: Arc<Artifacts>,
        options: HelmOptions,
        dependency_requeue: Duration,
    ) -> std::io::Result<HelmController> {
        let (work, temp) = match options.work_dir {
            Some(d) => {
                std::fs::create_dir_all(&d)?;
                (d, None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("gameday-helm-controller-")
                    .tempdir()?;
                (t.path().to_owned(), Some(t))
            }
        };
        let kubeconfig = work.join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .map_err(std::io::Error::other)?;
        Ok(HelmController {
            store: cluster.store().clone(),
            artifacts,
            lookup: options.lookup,
            kubeconfig,
            dependency_requeue,
            _temp: temp,
        })
    }

    fn all(&self) -> Vec<Arc<Value>> {
        self.store
            .list(&gvr(), None, &Selector::default())
            .map(|l| l.items)
            .unwrap_or_default()
    }
}

impl Controller for HelmController {
    const NAME: &'static str = NAME;
    const STATUS_MANAGER: &'static str = "gotk-helm-controller";

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        // A dependency became ready — Ready at its generation, as the
        // dependents judge it (the action loop writes Ready before the
        // skeleton records observedGeneration): its dependents need not wait.
        let ready = |o: &Value| {
            conditions::condition_status(o, "Ready") == Some("True")
                && o.pointer("/metadata/generation") == o.pointer("/status/observedGeneration")
        };
        if let Some(key) = chart_template::release_of(ev) {
            return vec![key];
        }
        let by_ref = chart_ref::users_of(ev, || self.all());
        if !by_ref.is_empty() {
            return by_ref;
        }
        woken(
            ev,
            &gvr(),
            || self.all(),
            |new, old| ready(new) && old.is_none_or(|old| !ready(old)),
        )
    }

    /// `helm uninstall` of a release this controller installed (unless
    /// suspended), as helm-controller does on deletion; the release's
    /// working files (a `chartRef` chart's copy) go with it.
    async fn cleanup(&self, obj: &Value, (ns, name): &Key) -> Cleanup {
        let done = release::uninstall(self, obj).await;
        if matches!(done, Cleanup::Done) {
            let _ = std::fs::remove_dir_all(self.artifacts.kind_dir("helmrelease", ns, name));
            if !crate::sim::flux::status::suspended(obj) {
                chart_template::delete(&self.store, obj);
            }
        }
        done
    }

    /// None: helm-controller records an Event per action (`InstallSucceeded`,
    /// `RollbackSucceeded`…, [`actions`]), not one per reconcile.
    fn ready_event(
        &self,
        _pass: &Pass<'_>,
        _ready: &super::reconcile::Ready,
        _took: Duration,
    ) -> Option<(&'static str, String)> {
        None
    }

    fn reconcile(
        &self,
        pass: &mut Pass<'_>,
    ) -> impl std::future::Future<Output = Reconciled> + Send {
        reconcile::reconcile(self, pass)
    }
}
