//! The tofu-controller (flux-iac/tofu-controller, formerly
//! weaveworks/tf-controller), emulated — hence the module's name, which
//! keeps it apart from the Terraform CLI ([`crate::terraform`]) and the
//! cluster provider that runs it: `Terraform` objects
//! (`infra.contrib.fluxcd.io/v1alpha2`) are reconciled by running the real
//! `terraform` command line ([`crate::terraform`]) on the module at
//! `spec.path` of their source's artifact — drift detection, plan, apply
//! when approved (`approvePlan: auto`), outputs written to the Secret
//! `spec.writeOutputsToSecret` names — with the real controller's status
//! (see `reconcile.rs`), at `spec.interval` (`retryInterval` after a
//! failure), on `reconcile.fluxcd.io/requestedAt`, when the source has a
//! new revision and when a dependency becomes ready.
//!
//! Here: the controller and its part of the reconcile skeleton
//! ([`crate::sim::flux::reconcile`]); `reconcile.rs`, the steps in the
//! real controller's order; [`status`], its status conventions (not
//! Flux's toolkit ones); `workspace.rs`, the module copies Terraform runs
//! in and `terraform destroy` on deletion; `outputs.rs`, the outputs
//! Secret; [`spec`].
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

mod outputs;
mod reconcile;
pub mod spec;
pub mod status;
mod workspace;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::artifacts::Artifacts;
use super::reconcile::{Cleanup, Controller, Failure, Pass, Ready, Reconciled, has_finalizer};
use super::runner::{Key, woken};
use super::status::Working;
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
    _temp: Option<crate::scratch::Scratch>,
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
                let t = crate::scratch::Scratch::new("tf")?;
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
    const NAME: &'static str = install::CONTROLLER;
    const STATUS_MANAGER: &'static str = install::CONTROLLER;
    const FINALIZER: &'static str = FINALIZER;

    fn resource(&self) -> Gvr {
        gvr()
    }

    fn store(&self) -> &Store {
        &self.store
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

    /// `terraform destroy` when the object still carries the finalizer
    /// and asks for it (best effort); the work folder goes.
    async fn cleanup(&self, obj: &Value, (ns, name): &Key) -> Cleanup {
        if has_finalizer(obj, FINALIZER) {
            workspace::destroy(self, obj, ns, name).await;
        }
        let _ = std::fs::remove_dir_all(self.work.join(ns).join(name));
        Cleanup::Done
    }

    fn reconcile(
        &self,
        pass: &mut Pass<'_>,
    ) -> impl std::future::Future<Output = Reconciled> + Send {
        reconcile::reconcile(self, pass)
    }

    fn mark_ready(&self, w: &mut Working, ready: &Ready) {
        let rev = ready.revision.as_deref();
        status::mark_ready(&self.store, w, "True", ready.reason, &ready.message, rev);
    }

    fn mark_failed(&self, w: &mut Working, failure: &Failure) {
        let rev = failure.revision.as_deref();
        status::mark_ready(
            &self.store,
            w,
            "False",
            failure.reason,
            &failure.message,
            rev,
        );
    }
}
