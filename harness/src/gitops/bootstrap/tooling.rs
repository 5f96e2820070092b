//! The GitOps tooling running on a cluster, as one API over both methods
//! ([`Tooling`]): bootstrap it ([`Tooling::bootstrap`]: install Flux and
//! point it at the source, or start gameday's direct applier — resuming
//! the inventory of one that ran before), adopt a Flux a cluster already
//! runs ([`Tooling::adopt`]), request a reconciliation now
//! ([`Tooling::trigger`]), lose the controller ([`Tooling::lose_controller`])
//! and stop what runs in this process ([`Tooling::shutdown`]).
//!
//! What differs between clusters comes in as data ([`Plan`]): how Flux is
//! installed there (the simulator's generated manifests, a Terraform
//! module's output, or the real way), the kubeconfig file, the source.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;

use super::direct::{DirectConfig, DirectReconciler};
use super::flux::control::Control;
use super::flux::{self, FluxBootstrap, Install};
use super::{Result, SyncSource, secrets};
use crate::clock::Clock;
use crate::gitops::apply::{Applier, Inventory};
use crate::scenario::model::{BootstrapMethod, DirectSettings, FluxSettings, SecretSource};

/// The GitOps tooling running on a cluster (see the module docs).
#[derive(Debug)]
pub enum Tooling {
    /// Flux (emulated in the simulator, real elsewhere).
    Flux(Control),
    /// gameday's direct applier.
    Direct {
        /// The reconciler, while it runs.
        reconciler: Option<DirectReconciler>,
        /// What it had applied when it stopped (a restart adopts it).
        inventory: Inventory,
    },
}

/// What [`Tooling::bootstrap`] sets up, and on what.
#[derive(Debug, Clone)]
pub struct Plan<'a> {
    /// Flux or the direct applier, with their settings.
    pub method: &'a BootstrapMethod,
    /// `spec.bootstrap.secrets`: restored before the first reconciliation.
    pub secrets: &'a [SecretSource],
    /// How Flux is installed when the cluster's provider decides it (the
    /// simulator's generated manifests, a Terraform module's
    /// `flux_manifests`); None for the real way: the `flux` CLI on PATH,
    /// else `bootstrap.flux.manifests`.
    pub flux_install: Option<Install>,
    /// The cluster's kubeconfig file (`flux install` needs it).
    pub kubeconfig: &'a Path,
    /// What the tooling follows.
    pub source: SyncSource,
    /// The revision Flux's sync objects must reach (`main@sha1:…`).
    pub revision: &'a str,
    /// How long Flux's install, then each sync object, may take.
    pub timeout: Duration,
}

/// A bootstrapped tooling.
#[derive(Debug)]
pub struct Bootstrapped {
    /// The tooling, running.
    pub tooling: Tooling,
    /// When it was ready: for Flux, when its GitRepository was Ready at the
    /// revision (the Kustomizations converge after that); for the direct
    /// applier, when its first full apply of the revision finished.
    pub ready_at: Timestamp,
    /// What was done, in a few words (`Flux installed (simulated)`).
    pub done: String,
}

impl Tooling {
    /// The Flux a cluster already runs, when it was `flux bootstrap`ped
    /// (`flux-system/flux-system` exists); `cluster` names it in errors.
    ///
    /// # Errors
    /// [`super::Error::Kube`] when looking fails.
    pub async fn adopt(
        client: kube::Client,
        clock: Clock,
        cluster: &str,
    ) -> Result<Option<Tooling>> {
        let control = Control::new(client, clock);
        Ok(control
            .is_bootstrapped(cluster)
            .await?
            .then_some(Tooling::Flux(control)))
    }

    /// Bootstraps `plan.method` on the cluster `applier` talks to. A
    /// direct applier that ran before (`previous`, stopped by
    /// `controller-loss`) resumes with its inventory, so it keeps pruning
    /// what it owns. Flux's waits run without holding the clock (the
    /// cluster must be free to make progress); the direct applier starts
    /// while the clock is held.
    ///
    /// # Errors
    /// Installing Flux, restoring the secrets, applying or waiting failed
    /// (see [`super::Error`]).
    pub async fn bootstrap(
        applier: &Applier,
        plan: &Plan<'_>,
        previous: Option<Tooling>,
    ) -> Result<Bootstrapped> {
        match plan.method {
            BootstrapMethod::Flux(settings) => install_flux(applier, plan, settings).await,
            BootstrapMethod::Direct(settings) => {
                start_direct(applier, plan, settings, previous).await
            }
        }
    }

    /// True for Flux.
    pub fn is_flux(&self) -> bool {
        matches!(self, Tooling::Flux(_))
    }

    /// What the direct applier applied (empty with Flux: its
    /// Kustomizations' inventories say).
    pub fn inventory(&self) -> Inventory {
        match self {
            Tooling::Flux(_) => Inventory::default(),
            Tooling::Direct {
                reconciler: Some(r),
                ..
            } => r.current().inventory,
            Tooling::Direct { inventory, .. } => inventory.clone(),
        }
    }

    /// Requests reconciliation now, as `flux reconcile kustomization
    /// --with-source` does, or the direct applier's trigger.
    ///
    /// # Errors
    /// When annotating fails.
    pub async fn trigger(&self) -> Result<()> {
        match self {
            Tooling::Flux(flux) => flux.request_reconciliation().await,
            Tooling::Direct { reconciler, .. } => {
                if let Some(r) = reconciler {
                    r.trigger();
                }
                Ok(())
            }
        }
    }

    /// The `controller-loss` fault: Flux's namespace deleted as `flux
    /// uninstall` does it ([`Control::uninstall`]), or the direct applier
    /// stopped (its inventory kept for a restart). Returns what was done.
    ///
    /// # Errors
    /// When an API call fails.
    pub async fn lose_controller(&mut self) -> Result<String> {
        match self {
            Tooling::Flux(flux) => flux.uninstall().await,
            Tooling::Direct {
                reconciler,
                inventory,
            } => {
                if let Some(r) = reconciler.take() {
                    *inventory = r.stop().await.inventory;
                }
                Ok("direct applier stopped".into())
            }
        }
    }

    /// With the direct applier: waits until a reconciliation that started
    /// at `since` or later applied `revision` in full, and returns when it
    /// finished. Flux (whose Kustomizations say what they applied) and a
    /// stopped applier return None at once.
    ///
    /// # Errors
    /// [`super::Error::NotApplied`] naming each object that could not be
    /// applied.
    pub async fn wait_direct_applied(
        &self,
        revision: &str,
        since: Timestamp,
        timeout: Duration,
    ) -> Result<Option<Timestamp>> {
        match self {
            Tooling::Direct {
                reconciler: Some(r),
                ..
            } => Ok(r
                .wait_applied(Some(revision), since, timeout)
                .await?
                .last_success_at),
            _ => Ok(None),
        }
    }

    /// Stops what runs in this process.
    pub async fn shutdown(self) {
        if let Tooling::Direct {
            reconciler: Some(r),
            ..
        } = self
        {
            r.stop().await;
        }
    }

    /// What a direct applier owned when it stopped (or now, stopping it).
    async fn into_inventory(self) -> Inventory {
        match self {
            Tooling::Direct {
                reconciler: Some(r),
                ..
            } => r.stop().await.inventory,
            Tooling::Direct { inventory, .. } => inventory,
            Tooling::Flux(_) => Inventory::default(),
        }
    }
}

/// Installs Flux and points it at the source.
async fn install_flux(
    applier: &Applier,
    plan: &Plan<'_>,
    settings: &FluxSettings,
) -> Result<Bootstrapped> {
    let install = match &plan.flux_install {
        Some(install) => install.clone(),
        None => Install::for_real_cluster(None, settings.manifests.as_deref())?,
    };
    let cfg = FluxBootstrap {
        install,
        kubeconfig: Some(plan.kubeconfig.to_owned()),
        timeout: plan.timeout,
        ..FluxBootstrap::simulated(settings, plan.secrets)
    };
    let report = flux::bootstrap(applier, &cfg, &plan.source, plan.revision).await?;
    Ok(Bootstrapped {
        tooling: Tooling::Flux(Control::new(
            applier.client().clone(),
            applier.clock().clone(),
        )),
        ready_at: report.source_ready_at,
        done: format!("Flux installed ({})", report.install),
    })
}

/// Restores the secrets, starts the direct applier (resuming `previous`'s
/// inventory) and waits until its first full apply of the head revision
/// succeeded: the bootstrap is over only when the source is applied.
async fn start_direct(
    applier: &Applier,
    plan: &Plan<'_>,
    settings: &DirectSettings,
    previous: Option<Tooling>,
) -> Result<Bootstrapped> {
    let clock = applier.clock().clone();
    let acting = clock.busy();
    let started = clock.now();
    secrets::restore(applier, plan.secrets).await?;
    let inventory = match previous {
        Some(tooling) => tooling.into_inventory().await,
        None => Inventory::default(),
    };
    let reconciler = DirectReconciler::start(
        applier,
        plan.source.clone(),
        DirectConfig::from_settings(settings),
        inventory,
    )?;
    drop(acting);
    let applied = match reconciler
        .wait_applied(Some(plan.revision), started, plan.timeout)
        .await
    {
        Ok(status) => status,
        Err(e) => {
            reconciler.stop().await;
            return Err(e);
        }
    };
    let changes = applied.last_changes;
    Ok(Bootstrapped {
        tooling: Tooling::Direct {
            reconciler: Some(reconciler),
            inventory: Inventory::default(),
        },
        ready_at: applied.last_success_at.unwrap_or_else(|| clock.now()),
        done: format!(
            "direct applier started; {} object(s) applied ({} created, {} configured, {} unchanged)",
            applied.inventory.entries.len(),
            changes.created,
            changes.configured,
            changes.unchanged
        ),
    })
}
