//! Clusters: creating them, reaching them, breaking them, deleting them.
//!
//! One [`Cluster`] handle per cluster a drill uses, whatever provides it;
//! the provider-specific work lives in one file per provider ([`sim`], …)
//! behind a closed enum, so every operation is an exhaustive `match` and a
//! provider that cannot do something says so in one place
//! ([`crate::scenario::capabilities`] is the table the scenario validation
//! already checked).

pub mod cleanup;
pub mod sim;

use jiff::Timestamp;
use std::path::{Path, PathBuf};

use crate::clock::Clock;
use crate::drill::probe::observer::TimeSource;
use crate::scenario::model::{Provider, Scenario};
use cleanup::Cleanup;

/// Errors of cluster operations.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The simulator failed to start or stop.
    #[error("simulated cluster {name}: {source}")]
    Sim {
        /// Cluster name.
        name: String,
        /// Why.
        #[source]
        source: crate::sim::Error,
    },
    /// The Flux emulation could not start.
    #[error("simulated cluster {name}: Flux emulation: {message}")]
    Flux {
        /// Cluster name.
        name: String,
        /// Why.
        message: String,
    },
    /// A node fault failed.
    #[error("cluster {name}: {source}")]
    Node {
        /// Cluster name.
        name: String,
        /// Why.
        #[source]
        source: crate::sim::controllers::NodeFaultError,
    },
    /// The provider cannot do this (validation should have refused it).
    #[error("provider {provider} cannot {what}")]
    Unsupported {
        /// Provider name.
        provider: &'static str,
        /// The operation.
        what: &'static str,
    },
    /// Writing the kubeconfig or run files failed.
    #[error("cannot write {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

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
    /// The simulator and its Flux emulation.
    Sim(
        crate::sim::SimCluster,
        Option<crate::sim::flux::FluxEmulation>,
    ),
}

impl Cluster {
    /// Creates a cluster for `scenario` with its provider. Returns once the
    /// API answers; waiting for the nodes is the caller's (watch-based)
    /// business.
    ///
    /// # Errors
    /// When the provider fails.
    pub async fn create(scenario: &Scenario, cx: &Context, generation: u32) -> Result<Cluster> {
        let name = cluster_name(&scenario.name, &cx.run_id, generation);
        match scenario.cluster.provider {
            Provider::Sim => sim::create(scenario, cx, &name).await,
            Provider::Kind => Err(Error::Unsupported {
                provider: "kind",
                what: "create clusters in this build",
            }),
            Provider::Terraform => Err(Error::Unsupported {
                provider: "terraform",
                what: "create clusters in this build",
            }),
            Provider::Existing => Err(Error::Unsupported {
                provider: "existing",
                what: "create clusters in this build",
            }),
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
            Backend::Sim(s, _) => TimeSource::Sim(s.clone()),
        }
    }

    /// The simulator behind this cluster, if it is one.
    pub fn sim(&self) -> Option<&crate::sim::SimCluster> {
        match &self.backend {
            Backend::Sim(s, _) => Some(s),
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
        }
    }

    /// Destroys the cluster (`cluster-loss`, and teardown): all state gone.
    ///
    /// # Errors
    /// When the provider fails to delete it.
    pub async fn destroy(self, cleanup: &Cleanup) -> Result<()> {
        if let Some(t) = self.cleanup {
            cleanup.forget(t);
        }
        match self.backend {
            Backend::Sim(s, flux) => {
                if let Some(f) = flux {
                    f.stop();
                }
                sim::destroy(&s).await;
                Ok(())
            }
        }
    }
}
