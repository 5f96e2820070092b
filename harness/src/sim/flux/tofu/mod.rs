//! The tofu-controller (flux-iac/tofu-controller, formerly
//! weaveworks/tf-controller), emulated — hence the module's name, which
//! keeps it apart from the Terraform CLI ([`crate::terraform`]) and the
//! cluster provider that runs it: `Terraform` objects
//! (`infra.contrib.fluxcd.io/v1alpha2`) are reconciled by running the real
//! `terraform` command line ([`crate::terraform`]) on the module at
//! `spec.path` of their source's artifact — drift detection, plan, apply
//! when approved (`approvePlan: auto`), outputs written to the Secret
//! `spec.writeOutputsToSecret` names — with the real controller's status
//! (see [`reconcile`]), at `spec.interval` (`retryInterval` after a
//! failure), on `reconcile.fluxcd.io/requestedAt`, when the source has a
//! new revision and when a dependency becomes ready.
//!
//! As the real controller does, Terraform keeps its state in the cluster
//! (the `kubernetes` backend: Secret `tfstate-<workspace>-<name>` in the
//! object's namespace, [`crate::terraform::backend`]), so a person — or
//! the `infra-drift` fault — can run the module by hand against the same
//! state, and the next reconcile finds the drift and applies Git's values
//! again.
//!
//! Simulated time: a reconcile holds its `Busy` guard while Terraform runs,
//! so infrastructure work takes no simulated time; intervals run on the
//! cluster's clock. Each reconcile works in a fresh copy of the module
//! (`<work dir>/<namespace>/<name>/`), as the real controller's runner
//! does in a fresh temporary folder.
//!
//! Differences from the real controller (documented in the README): no
//! runner pods; `vars` with `value` only (no `valueFrom`, `varsFrom`),
//! no `healthChecks`, `webhooks`, `cloud`, `planOnly` or plan Secrets (a
//! plan waiting for a manual approval is planned again once approved).

mod reconcile;
pub mod spec;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::runner::{Controller, Key, Requeue, woken};
use crate::clock::Busy;
use crate::flux::install::tofu as install;
use crate::gitops::apply::Applier;
use crate::process::Tools;
use crate::sim::storage::selectors::Selector;
use crate::sim::storage::store::{Event, Gvr, Store, conditions};

/// `terraforms.infra.contrib.fluxcd.io/v1alpha2`.
pub fn gvr() -> Gvr {
    Gvr::new("infra.contrib.fluxcd.io", "v1alpha2", "terraforms")
}

/// The finalizer the controller puts on `Terraform` objects.
pub const FINALIZER: &str = "finalizers.tf.contrib.fluxcd.io";

/// Longest a single Terraform command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// How the emulated Terraform controller runs.
#[derive(Debug, Clone, Default)]
pub struct TerraformOptions {
    /// Where reconciles work (a temporary folder when None).
    pub work_dir: Option<PathBuf>,
    /// How `terraform` runs (environment overlay: `PATH`,
    /// `TF_CLI_CONFIG_FILE`…).
    pub tools: Tools,
}

/// The emulated Terraform controller.
#[derive(Debug)]
pub struct TofuController {
    store: Store,
    artifacts: Arc<Artifacts>,
    applier: Applier,
    tools: Tools,
    work: PathBuf,
    /// A kubeconfig of the simulated cluster, for Terraform's backend.
    kubeconfig: PathBuf,
    dependency_requeue: Duration,
    _temp: Option<tempfile::TempDir>,
}

impl TofuController {
    /// A controller for `cluster`'s store, reading artifacts from
    /// `artifacts`, writing output Secrets through `applier`.
    ///
    /// # Errors
    /// When the work folder or the kubeconfig cannot be written.
    pub fn new(
        cluster: &crate::sim::SimCluster,
        artifacts: Arc<Artifacts>,
        applier: Applier,
        options: TerraformOptions,
        dependency_requeue: Duration,
    ) -> std::io::Result<TofuController> {
        let (work, temp) = match options.work_dir {
            Some(d) => {
                std::fs::create_dir_all(&d)?;
                (d, None)
            }
            None => {
                let t = tempfile::Builder::new().prefix("gameday-tf-").tempdir()?;
                (t.path().to_owned(), Some(t))
            }
        };
        let kubeconfig = work.join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .map_err(std::io::Error::other)?;
        Ok(TofuController {
            store: cluster.store().clone(),
            artifacts,
            applier: applier.with_options(crate::gitops::apply::ApplyOptions::manager(
                install::CONTROLLER,
            )),
            tools: options.tools,
            work,
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

impl Controller for TofuController {
    fn name(&self) -> &'static str {
        install::CONTROLLER
    }

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn triggered_by(&self, _store: &Store, ev: &Event) -> Vec<Key> {
        // A dependency became ready: its dependents need not wait.
        let ready = |o: &Value| conditions::condition_status(o, "Ready") == Some("True");
        woken(
            ev,
            &gvr(),
            || self.all(),
            |new, old| ready(new) && old.is_none_or(|old| !ready(old)),
        )
    }

    fn reconcile(
        &self,
        key: Key,
        busy: Busy,
    ) -> impl std::future::Future<Output = (Requeue, Busy)> + Send {
        reconcile::reconcile(self, key, busy)
    }
}
