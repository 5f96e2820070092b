//! Clusters: creating them, reaching them, breaking them, deleting them.
//!
//! One [`Cluster`] handle per cluster a drill uses, whatever provides it;
//! the provider-specific work lives in one module per provider under
//! [`providers`] ([`providers::sim`], [`providers::kind`],
//! [`providers::terraform`], [`providers::existing`]) behind a closed
//! enum, so every operation is an exhaustive `match` and a provider that cannot do something says so in
//! one place ([`crate::scenario::capabilities`] is the table the scenario
//! validation already checked).
//!
//! What gameday creates it registers in the run's [`cleanup`] registry and
//! deletes only after [`ownership`] proves it is its own; [`gc`] finds
//! what runs left behind.

pub mod cleanup;
mod error;
pub mod gc;
pub mod ownership;
pub mod providers;

use jiff::Timestamp;
use std::path::{Path, PathBuf};

use crate::clock::Clock;
use crate::clock::TimeSource;
use crate::gitops::apply::Manifest;
use crate::gitops::bootstrap::flux::Install;
use crate::scenario::model::{FluxSettings, Provider, Scenario};
use cleanup::Cleanup;
pub use error::{Error, Result};
use providers::{existing, kind, sim, terraform};

/// What a provider needs to create a cluster for one repeat of a drill.
#[derive(Debug, Clone)]
pub struct Context {
    /// The run id (`gameday-<scenario>-<run id>` names clusters).
    pub run_id: String,
    /// Folder for this repeat's files (kubeconfigs, state).
    pub dir: PathBuf,
    /// The clock of the repeat: virtual on the simulator.
    pub clock: Clock,
    /// Seed of the repeat (simulated jitter).
    pub seed: u64,
    /// Where created resources are registered for cleanup.
    pub cleanup: Cleanup,
    /// The user confirmed destructive faults on a cluster gameday does not
    /// own (`gameday run --yes`, or the prompt on a terminal).
    pub confirmed: bool,
    /// How provider programs (kind, docker…) are started.
    pub tools: crate::process::Tools,
    /// What the simulated image registry holds: one per repeat, shared by
    /// its simulated clusters (a rebuilt cluster pulls from the same
    /// registry), sealed at the disaster.
    pub images: crate::sim::workloads::images::Contents,
}

/// Cluster names: `gameday-<scenario>-<run id>[-<n>]` (n counts rebuilds).
pub fn cluster_name(scenario: &str, run_id: &str, generation: u32) -> String {
    if generation == 0 {
        format!("gameday-{scenario}-{run_id}")
    } else {
        format!("gameday-{scenario}-{run_id}-{generation}")
    }
}

/// A cluster a drill uses.
pub struct Cluster {
    name: String,
    kubeconfig: PathBuf,
    client: kube::Client,
    clock: Clock,
    cleanup: Option<cleanup::Token>,
    backend: Backend,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("name", &self.name)
            .field("kubeconfig", &self.kubeconfig)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
enum Backend {
    /// The simulator and its Flux emulation (shared with the cleanup
    /// entry, so a retained cluster keeps reconciling).
    Sim(crate::sim::SimCluster, sim::SharedFlux),
    Kind(kind::KindCluster),
    Terraform(terraform::TerraformCluster),
    Existing(existing::ExistingCluster),
}

impl Cluster {
    /// Creates a cluster for `scenario` with its provider (for `existing`:
    /// connects to it, after the `allowContexts` check). Returns once the
    /// API answers; waiting for the nodes is the caller's (watch-based)
    /// business. A kind cluster carries its ownership marker by then and is
    /// registered in `cx.cleanup` (from before `kind create` ran).
    ///
    /// # Errors
    /// When the provider fails or refuses.
    pub async fn create(scenario: &Scenario, cx: &Context, generation: u32) -> Result<Cluster> {
        let name = cluster_name(&scenario.name, &cx.run_id, generation);
        match scenario.cluster.provider {
            Provider::Sim => sim::create(scenario, cx, &name).await,
            Provider::Kind => kind::create(scenario, cx, &name).await,
            // Boxed: the drill's future would otherwise carry every
            // provider's creation state inline (and overflow the stack of
            // debug builds).
            Provider::Terraform => Box::pin(terraform::create(scenario, cx, &name)).await,
            Provider::Existing => existing::connect(scenario, cx).await,
        }
    }

    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kubeconfig file.
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// A client.
    pub fn client(&self) -> kube::Client {
        self.client.clone()
    }

    /// Its clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Where observed event times come from.
    pub fn time_source(&self) -> TimeSource {
        match &self.backend {
            Backend::Sim(s, _) => TimeSource::Stamped(std::sync::Arc::new(s.clone())),
            Backend::Kind(_) | Backend::Terraform(_) | Backend::Existing(_) => {
                TimeSource::Arrival(self.clock.clone())
            }
        }
    }

    /// The Terraform cluster behind this one, if it is one.
    pub fn terraform(&self) -> Option<&terraform::TerraformCluster> {
        match &self.backend {
            Backend::Terraform(t) => Some(t),
            Backend::Sim(..) | Backend::Kind(_) | Backend::Existing(_) => None,
        }
    }

    /// How Flux is installed on this cluster when its provider decides
    /// it: the simulator's generated manifests, with those of the
    /// Terraform controller it emulates too; a Terraform module's
    /// `flux_manifests` output (a scenario's own `bootstrap.flux.manifests`
    /// still win). None: the real way (the `flux` CLI on PATH, else the
    /// scenario's manifests).
    pub fn flux_install(&self, settings: &FluxSettings) -> Option<Install> {
        match &self.backend {
            Backend::Sim(..) => {
                let mut install = Install::simulated();
                if let Install::Objects(m) = &mut install {
                    m.extend(Manifest::generated(
                        crate::flux::install::tofu::objects(),
                        "Terraform controller install manifests (simulated)",
                    ));
                }
                Some(install)
            }
            Backend::Terraform(t) if settings.manifests.is_none() => {
                t.flux_manifests().map(|m| Install::Manifests {
                    location: m.display().to_string(),
                })
            }
            Backend::Terraform(_) | Backend::Kind(_) | Backend::Existing(_) => None,
        }
    }

    /// The provider's name, as in scenario files.
    pub fn provider(&self) -> &'static str {
        match &self.backend {
            Backend::Sim(..) => "sim",
            Backend::Kind(_) => "kind",
            Backend::Terraform(_) => "terraform",
            Backend::Existing(_) => "existing",
        }
    }

    /// Checks a fault against the provider's guard rails right before it is
    /// injected (the scenario validation checked the file; this checks the
    /// cluster actually in use). Only `existing` has rails: allowed
    /// namespaces, refused faults, the user's confirmation.
    ///
    /// # Errors
    /// [`Error::Existing`] saying why the fault is refused.
    pub fn check_fault(&self, fault: &crate::scenario::model::Fault) -> Result<()> {
        match &self.backend {
            Backend::Sim(..) | Backend::Kind(_) | Backend::Terraform(_) => Ok(()),
            Backend::Existing(e) => Ok(e.check_fault(fault)?),
        }
    }

    /// Where a Git server for this cluster's GitOps tooling must listen, and
    /// the host it must put in URLs, for the cluster to fetch from it:
    /// loopback for the simulator and for clusters made by a Terraform
    /// module (the fixture's simulated clusters run on this machine; a
    /// module making a remote cluster needs `spec.source.url`); the `kind`
    /// network's gateway for kind (call once the cluster exists: kind
    /// creates that network with its first cluster).
    ///
    /// # Errors
    /// [`Error::SourceUnreachable`] when the cluster cannot reach this
    /// machine (an existing cluster; a kind network without an IPv4
    /// gateway): the user must give `spec.source.url`.
    pub async fn git_serve_options(&self) -> Result<crate::gitops::serve::ServeOptions> {
        use crate::gitops::serve::ServeOptions;
        match &self.backend {
            Backend::Sim(..) | Backend::Terraform(_) => Ok(ServeOptions::default()),
            Backend::Kind(k) => {
                let gateway = k
                    .engine()
                    .network_gateway(kind::engine::KIND_NETWORK)
                    .await
                    .map_err(|e| Error::SourceUnreachable {
                        provider: "kind",
                        why: one_line(&e),
                    })?;
                Ok(ServeOptions {
                    bind: std::net::SocketAddr::new(gateway, 0),
                    advertise_host: Some(gateway.to_string()),
                    ..ServeOptions::default()
                })
            }
            Backend::Existing(_) => Err(Error::SourceUnreachable {
                provider: "existing",
                why: "gameday cannot tell whether a cluster it did not create reaches this machine"
                    .into(),
            }),
        }
    }

    /// Waits until the API server answers a request, at most `timeout`
    /// (retrying transport errors): a cluster a provider reports created
    /// may still be starting its API (a Terraform module's, typically).
    ///
    /// # Errors
    /// [`Error::Unreachable`] with the last error.
    pub async fn wait_api(&self, timeout: std::time::Duration) -> Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match self.client.apiserver_version().await {
                Ok(_) => return Ok(()),
                Err(source) if tokio::time::Instant::now() >= deadline => {
                    return Err(Error::Unreachable {
                        name: self.name.clone(),
                        after: timeout,
                        source,
                    });
                }
                Err(e) => {
                    tracing::debug!(cluster = %self.name, error = %e, "the API does not answer yet");
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// The time on the cluster's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Makes the API server unreachable (`api-outage`).
    ///
    /// # Errors
    /// When the provider cannot.
    pub async fn stop_api(&self) -> Result<()> {
        match &self.backend {
            Backend::Sim(s, _) => {
                s.stop_api().await;
                Ok(())
            }
            Backend::Kind(k) => Ok(k.stop_api().await?),
            Backend::Terraform(_) => Err(unsupported_on_terraform("stop the API server")),
            Backend::Existing(_) => Err(unsupported_on_existing("stop the API server")),
        }
    }

    /// Makes the API server reachable again.
    ///
    /// # Errors
    /// When it cannot be restarted.
    pub async fn start_api(&self) -> Result<()> {
        match &self.backend {
            Backend::Sim(s, _) => s.start_api().await.map_err(|source| Error::Sim {
                name: self.name.clone(),
                source,
            }),
            Backend::Kind(k) => Ok(k.start_api().await?),
            Backend::Terraform(_) => Err(unsupported_on_terraform("start the API server")),
            Backend::Existing(_) => Err(unsupported_on_existing("start the API server")),
        }
    }

    /// Loses `count` worker nodes (`node-loss`); returns their names.
    ///
    /// # Errors
    /// Not enough workers, or the provider cannot.
    pub async fn lose_workers(&self, count: u32) -> Result<Vec<String>> {
        match &self.backend {
            Backend::Sim(s, _) => {
                s.lose_workers(count as usize)
                    .await
                    .map_err(|source| Error::Node {
                        name: self.name.clone(),
                        source,
                    })
            }
            Backend::Kind(k) => Ok(k.lose_workers(count).await?),
            Backend::Terraform(_) => Err(unsupported_on_terraform("lose nodes")),
            Backend::Existing(_) => Err(unsupported_on_existing("lose nodes")),
        }
    }

    /// Destroys the cluster (`cluster-loss`): all state gone. A kind
    /// cluster is deleted only after the ownership check, a Terraform one
    /// with `terraform destroy`; when that or the deletion fails it stays
    /// registered for cleanup. An existing cluster is never destroyed.
    ///
    /// # Errors
    /// When the provider refuses or fails to delete it.
    pub async fn destroy(self, cleanup: &Cleanup) -> Result<()> {
        match self.backend {
            Backend::Sim(s, flux) => sim::destroy(&s, &flux).await,
            Backend::Kind(k) => k.destroy().await?,
            Backend::Terraform(t) => {
                t.destroy_infra(&[]).await?;
            }
            Backend::Existing(_) => return Err(unsupported_on_existing("destroy the cluster")),
        }
        if let Some(t) = self.cleanup {
            cleanup.forget(t);
        }
        Ok(())
    }
}

fn unsupported_on_terraform(what: &'static str) -> Error {
    Error::Unsupported {
        provider: "terraform",
        what,
    }
}

fn unsupported_on_existing(what: &'static str) -> Error {
    Error::Unsupported {
        provider: "existing",
        what,
    }
}

/// An error and its causes on one line (command output included).
fn one_line(e: &dyn std::error::Error) -> String {
    crate::error_chain::one_line(e)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
