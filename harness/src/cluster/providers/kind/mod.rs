//! The `kind` provider: real Kubernetes in containers, through the `kind`
//! command line and the container engine's (never a Go library).
//!
//! Creating a cluster, in order:
//! 1. `kind version` and the engine's `info` ([`Engine::detect`]): a clear
//!    error naming what was looked for when either is missing;
//! 2. the config ([`config::prepare`]) and `kind get clusters`: a cluster of
//!    the same name is never reused nor deleted ([`Error::NameTaken`]);
//! 3. the cluster is registered for cleanup, *then* `kind create cluster
//!    --name gameday-<scenario>-<run id> --config F --kubeconfig
//!    <repeat dir>/<name>.kubeconfig --wait <spec.cluster.kind.wait>
//!    [--image I]` runs, so a create that fails or is interrupted is deleted
//!    too (unless `--retain`);
//! 4. the ownership marker is written ([`crate::cluster::ownership`]).
//!
//! Teardown (the cleanup entry, and `cluster-loss`) resumes the containers
//! the drill paused, checks ownership with
//! [`crate::cluster::ownership::check_deletable`] and runs `kind delete cluster`.
//!
//! Faults: `node-loss` stops worker containers (`docker stop
//! <cluster>-worker[N]`, highest number first, as the simulator chooses);
//! `api-outage` pauses the control-plane container(s) for its duration.

pub mod cli;
pub mod config;
pub mod engine;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::cluster::ownership::{self, Evidence, Marker, Refusal};
use crate::cluster::{Backend, Cluster, Context};
use crate::process::ProcessError;
use crate::scenario::model::Scenario;
pub use cli::{CreateRequest, KindCli};
pub use config::{Node, Role};
pub use engine::Engine;

/// How long the harness waits for a new cluster's API to take the marker,
/// and for an existing one's to show it.
const API_PATIENCE: Duration = Duration::from_secs(60);
const MARKER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// Errors of the kind provider.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The `kind` program is missing.
    #[error(
        "kind is not installed: looked for `kind` on PATH. Install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or run the drill on the simulator (--provider sim)"
    )]
    KindMissing(#[source] ProcessError),
    /// The container engine.
    #[error(transparent)]
    Engine(#[from] engine::Error),
    /// The kind config.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// A cluster of that name exists already.
    #[error(
        "a kind cluster named {name} already exists; gameday creates a fresh cluster for every drill and never touches one it did not create: delete it yourself (kind delete cluster --name {name}), or run `gameday gc` if a gameday run left it behind"
    )]
    NameTaken {
        /// The cluster.
        name: String,
    },
    /// A kind command failed.
    #[error("{what}")]
    Kind {
        /// What was being done.
        what: String,
        /// The command.
        #[source]
        source: ProcessError,
    },
    /// The kubeconfig kind wrote does not give a client.
    #[error("cannot build a client for kind cluster {name} from {origin}: {why}")]
    Client {
        /// The cluster.
        name: String,
        /// The kubeconfig file, or `kind get kubeconfig`.
        origin: String,
        /// Why.
        why: String,
    },
    /// The marker could not be written.
    #[error(
        "cannot write the ownership marker into kind cluster {name} (so gameday could not delete it later)"
    )]
    Marker {
        /// The cluster.
        name: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// Fewer running workers than a node-loss asks for.
    #[error(
        "cannot lose {wanted} worker node(s) of kind cluster {name}: only {available} worker(s) are running; add workers to the kind config (spec.cluster.kind.config) or lower the count"
    )]
    NotEnoughWorkers {
        /// The cluster.
        name: String,
        /// Asked for.
        wanted: u32,
        /// Running.
        available: usize,
    },
    /// Ownership could not be proven: the cluster was not deleted.
    #[error(transparent)]
    Refused(#[from] Refusal),
}

/// What teardown and the faults share: the cleanup entry outlives the
/// [`KindCluster`] (an interrupted drill drops it).
#[derive(Debug)]
struct Shared {
    name: String,
    run_id: String,
    cli: KindCli,
    engine: Engine,
    kubeconfig: PathBuf,
    nodes: Vec<Node>,
    marker_written: AtomicBool,
    /// Containers the drill paused (api-outage), resumed at teardown.
    paused: Mutex<BTreeSet<String>>,
    /// Workers the drill stopped (node-loss).
    stopped: Mutex<BTreeSet<String>>,
}

/// A kind cluster a drill created.
#[derive(Debug, Clone)]
pub struct KindCluster {
    shared: Arc<Shared>,
}

fn kind_err(what: String) -> impl FnOnce(ProcessError) -> Error {
    move |source| Error::Kind { what, source }
}

/// The kind context name of a cluster.
pub fn context_name(cluster: &str) -> String {
    format!("kind-{cluster}")
}

/// Checks that `kind` and a container engine answer.
///
/// # Errors
/// [`Error::KindMissing`], [`Error::Engine`].
pub async fn detect(cli: &KindCli) -> Result<Engine, Error> {
    cli.version().await.map_err(|e| {
        if e.is_not_found() {
            Error::KindMissing(e)
        } else {
            Error::Kind {
                what: "`kind version` failed".into(),
                source: e,
            }
        }
    })?;
    Ok(Engine::detect(cli.tools()).await?)
}

pub(in crate::cluster) async fn create(
    scenario: &Scenario,
    cx: &Context,
    name: &str,
) -> Result<Cluster, crate::cluster::Error> {
    let cli = KindCli::new("kind", cx.tools.clone());
    let engine = detect(&cli).await?;
    std::fs::create_dir_all(&cx.dir).map_err(|source| crate::cluster::Error::Io {
        path: cx.dir.clone(),
        source,
    })?;
    let settings = &scenario.cluster.kind;
    let (config, roles) = config::prepare(
        settings.config.as_deref(),
        scenario.cluster.sim.nodes,
        &cx.dir,
        name,
    )
    .map_err(Error::from)?;
    let existing = cli
        .get_clusters()
        .await
        .map_err(kind_err("cannot list kind clusters".into()))?;
    if existing.iter().any(|c| c == name) {
        return Err(Error::NameTaken {
            name: name.to_owned(),
        }
        .into());
    }
    let kubeconfig = cx.dir.join(format!("{name}.kubeconfig"));
    let shared = Arc::new(Shared {
        name: name.to_owned(),
        run_id: cx.run_id.clone(),
        cli: cli.clone(),
        engine,
        kubeconfig: kubeconfig.clone(),
        nodes: config::nodes(name, &roles),
        marker_written: AtomicBool::new(false),
        paused: Mutex::default(),
        stopped: Mutex::default(),
    });
    // Registered before kind runs: a create that fails halfway or is
    // interrupted leaves containers that must go too.
    let for_cleanup = shared.clone();
    let token = cx.cleanup.register(
        format!("kind cluster {name}"),
        Some(format!(
            "export KUBECONFIG={} (delete it with `kind delete cluster --name {name}` or `gameday gc`)",
            kubeconfig.display()
        )),
        Box::new(move || Box::pin(async move { teardown(&for_cleanup).await.map_err(|e| e.to_string()) })),
    );
    let request = CreateRequest {
        name: name.to_owned(),
        config,
        kubeconfig: kubeconfig.clone(),
        wait: settings.wait,
        image: settings.image.clone(),
    };
    cli.create_cluster(&request)
        .await
        .map_err(kind_err(format!("kind could not create cluster {name}")))?;
    let client = client_from_file(&kubeconfig, name).await?;
    let marker = Marker {
        run_id: cx.run_id.clone(),
        cluster: name.to_owned(),
        scenario: scenario.name.clone(),
        created_at: jiff::Timestamp::now().to_string(),
    };
    write_marker_patiently(&client, &marker).await?;
    shared.marker_written.store(true, Ordering::SeqCst);
    tracing::debug!(cluster = name, run_id = %cx.run_id, "ownership marker written");
    Ok(Cluster {
        name: name.to_owned(),
        kubeconfig,
        client,
        clock: cx.clock.clone(),
        cleanup: Some(token),
        backend: Backend::Kind(KindCluster { shared }),
    })
}

/// The API may still be settling right after `kind create cluster`
/// (especially with `--wait 0s`): transport errors are retried for a
/// while, an answer from the API is final.
async fn write_marker_patiently(client: &kube::Client, marker: &Marker) -> Result<(), Error> {
    let deadline = tokio::time::Instant::now() + API_PATIENCE;
    loop {
        match ownership::write_marker(client, marker).await {
            Ok(()) => return Ok(()),
            Err(e @ kube::Error::Api(_)) => {
                return Err(Error::Marker {
                    name: marker.cluster.clone(),
                    source: e,
                });
            }
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(Error::Marker {
                    name: marker.cluster.clone(),
                    source: e,
                });
            }
            Err(e) => {
                tracing::debug!(error = %e, "the new cluster's API does not answer yet");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn client_from(kc: Kubeconfig, name: &str, origin: &str) -> Result<kube::Client, Error> {
    let err = |why: String| Error::Client {
        name: name.to_owned(),
        origin: origin.to_owned(),
        why,
    };
    let options = KubeConfigOptions {
        context: Some(context_name(name)),
        ..KubeConfigOptions::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &options)
        .await
        .map_err(|e| err(e.to_string()))?;
    kube::Client::try_from(config).map_err(|e| err(e.to_string()))
}

async fn client_from_file(path: &Path, name: &str) -> Result<kube::Client, Error> {
    let origin = path.display().to_string();
    let kc = Kubeconfig::read_from(path).map_err(|e| Error::Client {
        name: name.to_owned(),
        origin: origin.clone(),
        why: e.to_string(),
    })?;
    client_from(kc, name, &origin).await
}

/// Reads a kind cluster's ownership marker through `kind get kubeconfig`
/// (no file is touched). Never fails: a failure is [`Evidence::Unreadable`].
pub async fn read_marker(cli: &KindCli, name: &str) -> Evidence {
    let yaml = match cli.get_kubeconfig(name).await {
        Ok(y) => y,
        Err(e) => return Evidence::Unreadable(e.to_string()),
    };
    let origin = format!("`kind get kubeconfig --name {name}`");
    let kc = match Kubeconfig::from_yaml(&yaml) {
        Ok(kc) => kc,
        Err(e) => return Evidence::Unreadable(format!("{origin}: {e}")),
    };
    let client = match client_from(kc, name, &origin).await {
        Ok(c) => c,
        Err(e) => return Evidence::Unreadable(e.to_string()),
    };
    match tokio::time::timeout(MARKER_READ_TIMEOUT, ownership::read_marker(&client)).await {
        Ok(evidence) => evidence,
        Err(_) => Evidence::Unreadable(format!(
            "the API did not answer within {}",
            humantime::format_duration(MARKER_READ_TIMEOUT)
        )),
    }
}

/// Deletes a cluster of this run: resumes what the drill paused, checks
/// ownership, `kind delete cluster`. A cluster that is gone already is
/// fine.
async fn teardown(s: &Shared) -> Result<(), Error> {
    let paused: Vec<String> = std::mem::take(&mut *lock(&s.paused)).into_iter().collect();
    for c in &paused {
        // The marker is read through the API, which a paused control plane
        // does not serve.
        if let Err(e) = s.engine.unpause(c).await {
            tracing::warn!(container = %c, error = %e, "could not resume a paused container before deleting");
        }
    }
    let listed = s
        .cli
        .get_clusters()
        .await
        .map_err(kind_err("cannot list kind clusters".into()))?;
    if !listed.iter().any(|c| c == &s.name) {
        return Ok(());
    }
    let evidence = if s.marker_written.load(Ordering::SeqCst) {
        read_marker(&s.cli, &s.name).await
    } else {
        Evidence::CreatedByThisRun
    };
    ownership::check_deletable(&s.name, &evidence, Some(&s.run_id))?;
    s.cli
        .delete_cluster(&s.name, Some(&s.kubeconfig))
        .await
        .map_err(kind_err(format!(
            "kind could not delete cluster {}",
            s.name
        )))
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl KindCluster {
    /// The cluster's name.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Its node containers, as kind names them.
    pub fn nodes(&self) -> &[Node] {
        &self.shared.nodes
    }

    /// The engine its nodes run in.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Pauses the control-plane container(s): the API stops answering.
    ///
    /// # Errors
    /// When the engine fails.
    pub async fn stop_api(&self) -> Result<(), Error> {
        let planes = self
            .shared
            .nodes
            .iter()
            .filter(|n| n.role == Role::ControlPlane);
        for n in planes {
            if lock(&self.shared.paused).contains(&n.container) {
                continue;
            }
            self.shared.engine.pause(&n.container).await?;
            lock(&self.shared.paused).insert(n.container.clone());
        }
        Ok(())
    }

    /// Resumes what [`KindCluster::stop_api`] paused.
    ///
    /// # Errors
    /// When the engine fails.
    pub async fn start_api(&self) -> Result<(), Error> {
        let paused: Vec<String> = lock(&self.shared.paused).iter().cloned().collect();
        for c in paused {
            self.shared.engine.unpause(&c).await?;
            lock(&self.shared.paused).remove(&c);
        }
        Ok(())
    }

    /// Stops `count` running worker containers, highest number first
    /// (`…-worker3`, `…-worker2`, `…-worker`); returns their names.
    ///
    /// # Errors
    /// [`Error::NotEnoughWorkers`], or the engine fails.
    pub async fn lose_workers(&self, count: u32) -> Result<Vec<String>, Error> {
        let running: Vec<String> = {
            let stopped = lock(&self.shared.stopped);
            self.shared
                .nodes
                .iter()
                .rev()
                .filter(|n| n.role == Role::Worker && !stopped.contains(&n.container))
                .map(|n| n.container.clone())
                .collect()
        };
        if running.len() < count as usize {
            return Err(Error::NotEnoughWorkers {
                name: self.shared.name.clone(),
                wanted: count,
                available: running.len(),
            });
        }
        let chosen: Vec<String> = running.into_iter().take(count as usize).collect();
        for c in &chosen {
            self.shared.engine.stop(c).await?;
            lock(&self.shared.stopped).insert(c.clone());
        }
        Ok(chosen)
    }

    /// Deletes the cluster (after the ownership check).
    ///
    /// # Errors
    /// [`Error::Refused`] when ownership cannot be proven, or kind fails.
    pub async fn destroy(&self) -> Result<(), Error> {
        teardown(&self.shared).await
    }
}
