//! The drill's view of the GitOps layer: its source repository
//! ([`Source`]), the tooling that reconciles it ([`Tooling`]: Flux, or
//! gameday's direct applier), and changes made by hand in `setup`.
//!
//! The waits inside bootstrap run without holding the clock (the cluster
//! must be free to make progress); everything else here is an action.

pub mod manifests;
mod source;

use std::collections::BTreeSet;
use std::path::Path;

use jiff::Timestamp;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::json;

pub use self::source::Source;
use super::context::Context;
use super::error::{Error, Result};
use super::probe::checks::Entry;
use super::probe::observer::GroupKind;
use super::target::Target;
use crate::cluster::Cluster;
use crate::gitops::apply::inventory::Inventory;
use crate::gitops::apply::{Applier, ApplyOptions, Manifest};
use crate::gitops::bootstrap::direct::{DirectConfig, DirectReconciler};
use crate::gitops::bootstrap::flux::{self as flux_bootstrap, FluxBootstrap, Install};
use crate::gitops::bootstrap::{SyncSource, secrets};
use crate::scenario::capabilities::FLUX_NAMESPACE;
use crate::scenario::model::{BootstrapMethod, ObjectRef};

/// The GitOps tooling running on the drill's cluster.
#[derive(Debug)]
pub enum Tooling {
    /// Flux (emulated in the simulator, real elsewhere).
    Flux,
    /// gameday's direct applier.
    Direct {
        /// The reconciler, while it runs.
        reconciler: Option<DirectReconciler>,
        /// What it had applied when it stopped (a restart adopts it).
        inventory: Inventory,
    },
}

fn bootstrap_err(e: impl std::fmt::Display) -> Error {
    Error::Bootstrap(e.to_string())
}

fn sync_source(source: &Source) -> SyncSource {
    SyncSource {
        url: source.url().to_owned(),
        reference: source.reference().clone(),
        path: source.path().to_owned(),
    }
}

/// Bootstraps the scenario's GitOps tooling on the drill's cluster and
/// returns it with the moment it was ready: for Flux, when its
/// GitRepository was Ready at the head revision (the Kustomizations
/// converge after that); for the direct applier, when it started.
/// A direct applier that ran before (stopped by `controller-loss`) restarts
/// with its inventory, so it keeps pruning what it owns.
///
/// # Errors
/// [`Error::Bootstrap`] naming what failed.
pub(super) async fn bootstrap(cx: &Context, d: &mut Target) -> Result<(Tooling, Timestamp)> {
    let cluster = d.cluster()?;
    let clock = cx.clock().clone();
    let applier = Applier::new(cluster.client(), clock.clone(), ApplyOptions::default());
    let s = cx.scenario.clone();
    match &s.bootstrap.method {
        BootstrapMethod::Flux(_)
            if s.cluster.provider == crate::scenario::model::Provider::Existing =>
        {
            // A cluster gameday did not create keeps its own Flux: adopt it.
            // Flux is installed only where this drill removed it
            // (controller-loss, then rebuild).
            if flux_is_bootstrapped(cluster).await? {
                cx.timeline()
                    .operation("existing Flux bootstrap adopted (flux-system/flux-system)");
                return Ok((Tooling::Flux, clock.now()));
            }
            if d.tooling.is_none() {
                return Err(Error::Bootstrap(format!(
                    "cluster {} has no Flux bootstrap (Kustomization {FLUX_NAMESPACE}/flux-system): gameday does not install Flux on a cluster it did not create; run `flux bootstrap` there first, or use bootstrap.method: direct",
                    cluster.name()
                )));
            }
            install_flux(cx, d, &applier).await
        }
        BootstrapMethod::Flux(_) => install_flux(cx, d, &applier).await,
        BootstrapMethod::Direct(settings) => {
            let _acting = clock.busy();
            let restored = secrets::manifests(&s.bootstrap.secrets).map_err(bootstrap_err)?;
            if !restored.is_empty() {
                applier
                    .apply(restored)
                    .await
                    .check()
                    .map_err(bootstrap_err)?;
            }
            let inventory = match d.tooling.take() {
                Some(Tooling::Direct {
                    inventory,
                    reconciler,
                }) => match reconciler {
                    Some(r) => r.stop().await.inventory,
                    None => inventory,
                },
                _ => Inventory::default(),
            };
            let reconciler = DirectReconciler::start(
                &applier,
                sync_source(&d.source),
                DirectConfig::from_settings(settings),
                inventory,
            )
            .map_err(bootstrap_err)?;
            cx.timeline().operation("direct applier started");
            Ok((
                Tooling::Direct {
                    reconciler: Some(reconciler),
                    inventory: Inventory::default(),
                },
                clock.now(),
            ))
        }
    }
}

/// Installs Flux and points it at the source (the real way on real
/// clusters, the simulator's manifests on the simulator).
async fn install_flux(cx: &Context, d: &Target, applier: &Applier) -> Result<(Tooling, Timestamp)> {
    let cluster = d.cluster()?;
    let s = cx.scenario.clone();
    let BootstrapMethod::Flux(settings) = &s.bootstrap.method else {
        return Err(Error::Bootstrap("the bootstrap method is not flux".into()));
    };
    let cfg = match (cluster.sim(), cluster.flux_manifests()) {
        (Some(_), _) => {
            // The simulator emulates Flux's Terraform controller too:
            // installed with Flux's components.
            let mut cfg = FluxBootstrap::simulated(settings, &s.bootstrap.secrets);
            if let Install::Objects(m) = &mut cfg.install {
                m.extend(crate::gitops::apply::Manifest::generated(
                    crate::flux::install::tofu::objects(),
                    "Terraform controller install manifests (simulated)",
                ));
            }
            cfg
        }
        // The module that made the cluster knows what it runs; the
        // scenario's own manifests still win.
        (None, Some(m)) if settings.manifests.is_none() => FluxBootstrap {
            install: Install::Manifests {
                location: m.display().to_string(),
            },
            kubeconfig: Some(cluster.kubeconfig().to_owned()),
            ..FluxBootstrap::simulated(settings, &s.bootstrap.secrets)
        },
        (None, _) => FluxBootstrap::real(
            settings,
            &s.bootstrap.secrets,
            Some(cluster.kubeconfig().to_owned()),
            None,
        )
        .map_err(bootstrap_err)?,
    };
    let timeout = s.steady_state.timeout;
    let cfg = FluxBootstrap { timeout, ..cfg };
    let report =
        flux_bootstrap::bootstrap(applier, &cfg, &sync_source(&d.source), d.source.revision())
            .await
            .map_err(bootstrap_err)?;
    cx.timeline()
        .operation(&format!("Flux installed ({})", report.install));
    Ok((Tooling::Flux, report.source_ready_at))
}

/// True when `flux-system/flux-system` exists (a `flux bootstrap`ped cluster).
async fn flux_is_bootstrapped(cluster: &Cluster) -> Result<bool> {
    let ar = kube::api::ApiResource {
        group: "kustomize.toolkit.fluxcd.io".into(),
        version: "v1".into(),
        api_version: "kustomize.toolkit.fluxcd.io/v1".into(),
        kind: "Kustomization".into(),
        plural: "kustomizations".into(),
    };
    let api: Api<DynamicObject> = Api::namespaced_with(cluster.client(), FLUX_NAMESPACE, &ar);
    match api.get_opt("flux-system").await {
        Ok(found) => Ok(found.is_some()),
        // No Flux CRDs at all.
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
        Err(source) => Err(Error::Kube {
            what: format!(
                "looking for the Flux bootstrap of cluster {}",
                cluster.name()
            ),
            source,
        }),
    }
}

impl Tooling {
    /// True for Flux.
    pub fn is_flux(&self) -> bool {
        matches!(self, Tooling::Flux)
    }

    /// The objects the direct applier applies (empty with Flux: its
    /// Kustomizations' inventories say).
    pub fn desired(&self) -> BTreeSet<Entry> {
        let inventory = match self {
            Tooling::Flux => return BTreeSet::new(),
            Tooling::Direct {
                reconciler: Some(r),
                ..
            } => r.current().inventory,
            Tooling::Direct { inventory, .. } => inventory.clone(),
        };
        inventory
            .entries
            .iter()
            .filter_map(|e| Entry::from_inventory_id(&e.id))
            .collect()
    }

    /// Requests reconciliation now, as `flux reconcile kustomization
    /// --with-source` does (the `reconcile.fluxcd.io/requestedAt`
    /// annotation on the sources and Kustomizations), or the direct
    /// applier's trigger.
    ///
    /// # Errors
    /// When annotating fails.
    pub async fn trigger(&self, cluster: &Cluster) -> Result<()> {
        match self {
            Tooling::Flux => {
                let now = cluster.now().strftime("%Y-%m-%dT%H:%M:%S%.9fZ").to_string();
                let patch =
                    json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}});
                for (group, version, plural) in [
                    ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
                    ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
                ] {
                    let ar = kube::api::ApiResource {
                        group: group.into(),
                        version: version.into(),
                        api_version: format!("{group}/{version}"),
                        kind: String::new(),
                        plural: plural.into(),
                    };
                    let api: Api<DynamicObject> = Api::all_with(cluster.client(), &ar);
                    let list =
                        api.list(&Default::default())
                            .await
                            .map_err(|source| Error::Kube {
                                what: format!("listing {plural} to request reconciliation"),
                                source,
                            })?;
                    for o in list.items {
                        let (Some(ns), Some(name)) =
                            (o.metadata.namespace.clone(), o.metadata.name.clone())
                        else {
                            continue;
                        };
                        let api: Api<DynamicObject> =
                            Api::namespaced_with(cluster.client(), &ns, &ar);
                        api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                            .await
                            .map_err(|source| Error::Kube {
                                what: format!("requesting reconciliation of {plural} {ns}/{name}"),
                                source,
                            })?;
                    }
                }
                Ok(())
            }
            Tooling::Direct { reconciler, .. } => {
                if let Some(r) = reconciler {
                    r.trigger();
                }
                Ok(())
            }
        }
    }

    /// The `controller-loss` fault. With Flux: the `flux-system` namespace
    /// is deleted the way `flux uninstall` does it — finalizers removed from
    /// the Flux objects first, so the workloads they applied stay (orphaned)
    /// instead of being pruned or leaving the namespace stuck Terminating.
    /// With the direct applier: it stops. Returns what was done.
    ///
    /// # Errors
    /// When an API call fails.
    pub async fn lose_controller(&mut self, cluster: Option<&Cluster>) -> Result<String> {
        match self {
            Tooling::Flux => {
                let Some(cluster) = cluster else {
                    return Ok("no cluster".into());
                };
                let client = cluster.client();
                let unfinalize = json!({"metadata": {"finalizers": null}});
                for (group, version, plural) in [
                    ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
                    ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
                    ("infra.contrib.fluxcd.io", "v1alpha2", "terraforms"),
                ] {
                    let ar = kube::api::ApiResource {
                        group: group.into(),
                        version: version.into(),
                        api_version: format!("{group}/{version}"),
                        kind: String::new(),
                        plural: plural.into(),
                    };
                    let api: Api<DynamicObject> =
                        Api::namespaced_with(client.clone(), FLUX_NAMESPACE, &ar);
                    let list = match api.list(&Default::default()).await {
                        Ok(l) => l,
                        // Not installed (the Terraform controller is optional).
                        Err(kube::Error::Api(s)) if s.code == 404 => continue,
                        Err(source) => {
                            return Err(Error::Kube {
                                what: format!("listing {plural} in {FLUX_NAMESPACE}"),
                                source,
                            });
                        }
                    };
                    for o in list.items {
                        if let Some(name) = o.metadata.name {
                            api.patch(&name, &PatchParams::default(), &Patch::Merge(&unfinalize))
                                .await
                                .map_err(|source| Error::Kube {
                                    what: format!("removing the finalizers of {plural} {name}"),
                                    source,
                                })?;
                        }
                    }
                }
                let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client);
                ns.delete(FLUX_NAMESPACE, &DeleteParams::background())
                    .await
                    .map_err(|source| Error::Kube {
                        what: format!("deleting namespace {FLUX_NAMESPACE}"),
                        source,
                    })?;
                Ok(format!(
                    "namespace {FLUX_NAMESPACE} deleted (Flux controllers, sources and Kustomizations gone; applied workloads left running)"
                ))
            }
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
}

/// Applies manifests by hand (a `setup` step), as a person with kubectl
/// would; returns how many objects were applied.
///
/// # Errors
/// When the manifests cannot be read or applied.
pub(super) async fn apply_by_hand(cluster: &Cluster, path: &Path) -> Result<usize> {
    let docs = manifests::read_manifests(path).map_err(|e| Error::Apply(format!("setup: {e}")))?;
    let applier = Applier::new(
        cluster.client(),
        cluster.clock().clone(),
        ApplyOptions::manager("kubectl"),
    );
    let n = docs.len();
    let manifests: Vec<Manifest> = docs
        .into_iter()
        .map(|v| Manifest::new(v).with_origin(path.display().to_string()))
        .collect();
    applier
        .apply(manifests)
        .await
        .check()
        .map_err(|e| Error::Apply(format!("setup: applying {}: {e}", path.display())))?;
    Ok(n)
}

/// Deletes one object by hand (a `setup` step).
///
/// # Errors
/// When the kind is unknown or the API call fails (a missing object is fine).
pub(super) async fn delete_by_hand(cluster: &Cluster, o: &ObjectRef) -> Result<()> {
    let api_version = o.api_version.clone().unwrap_or_else(|| "v1".into());
    let gk = GroupKind::of(&api_version, &o.kind);
    let version = api_version
        .rsplit_once('/')
        .map(|(_, v)| v)
        .unwrap_or(&api_version);
    let gvk = kube::api::GroupVersionKind::gvk(&gk.group, version, &gk.kind);
    let client = cluster.client();
    let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .map_err(|source| Error::Kube {
            what: format!("finding the resource of {api_version} {}", o.kind),
            source,
        })?;
    let api: Api<DynamicObject> = match (&o.namespace, caps.scope) {
        (Some(ns), kube::discovery::Scope::Namespaced) => Api::namespaced_with(client, ns, &ar),
        _ => Api::all_with(client, &ar),
    };
    match api.delete(&o.name, &DeleteParams::background()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(source) => Err(Error::Kube {
            what: format!("deleting {o}"),
            source,
        }),
    }
}
