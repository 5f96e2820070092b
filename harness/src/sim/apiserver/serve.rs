//! `gameday sim serve` as a library function: start a cluster, write its
//! kubeconfig, serve until SIGINT/SIGTERM, clean up.

use std::path::{Path, PathBuf};

use tokio::signal::unix::{SignalKind, signal};
use tracing::info;

use super::control::ControlServer;
use crate::sim::cluster::{SimCluster, SimOptions};
use crate::sim::flux::FluxOptions;
use crate::sim::{Error, Result};

/// The kubeconfig path used when none is given: `./sim-<name>.kubeconfig`.
pub fn default_kubeconfig(name: &str) -> PathBuf {
    PathBuf::from(format!("sim-{name}.kubeconfig"))
}

/// What `gameday sim serve` serves besides the API.
#[derive(Debug, Clone, Copy)]
pub struct Serving<'a> {
    /// Where the kubeconfig goes (mode 0600).
    pub kubeconfig: &'a Path,
    /// A unix socket for fault commands (see [`super::control`]).
    pub control: Option<&'a Path>,
    /// Run the Flux emulation: `GitRepository` and `Kustomization` objects
    /// are reconciled once Flux's install manifests are applied.
    pub flux: bool,
}

/// Serves a simulated cluster until SIGINT or SIGTERM.
///
/// Once the API accepts requests and the kubeconfig (mode 0600) is
/// written, `on_ready` is called once with its path (the CLI prints
/// `ready: kubeconfig written to PATH`). On exit the kubeconfig and the
/// control socket are removed.
///
/// # Errors
/// The cluster or the Flux emulation could not start (e.g. the port is
/// taken), the kubeconfig or the control socket could not be written, or
/// the signal handlers could not be installed.
pub async fn serve(
    options: SimOptions,
    serving: Serving<'_>,
    on_ready: impl FnOnce(&Path),
) -> Result<()> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let cluster = SimCluster::start(options).await?;
    let extras = async {
        let control = serving
            .control
            .map(|path| ControlServer::start(cluster.clone(), path))
            .transpose()?;
        let flux = if serving.flux {
            Some(
                cluster
                    .enable_flux(FluxOptions::default())
                    .await
                    .map_err(|e| Error::Flux(Box::new(e)))?,
            )
        } else {
            None
        };
        Ok::<_, Error>((control, flux))
    };
    let extras = match extras.await {
        Ok(x) => x,
        Err(e) => {
            cluster.shutdown().await;
            return Err(e);
        }
    };
    let result = run(&cluster, serving.kubeconfig, on_ready, async {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    })
    .await;
    drop(extras);
    cluster.shutdown().await;
    result
}

async fn run(
    cluster: &SimCluster,
    kubeconfig: &Path,
    on_ready: impl FnOnce(&Path),
    stop: impl std::future::Future<Output = &'static str>,
) -> Result<()> {
    cluster.write_kubeconfig(kubeconfig)?;
    info!(url = %cluster.url(), kubeconfig = %kubeconfig.display(), "simulated cluster serving");
    on_ready(kubeconfig);
    let why = stop.await;
    info!(signal = why, "stopping the simulated cluster");
    if let Err(e) = std::fs::remove_file(kubeconfig) {
        tracing::warn!(kubeconfig = %kubeconfig.display(), error = %e, "could not remove the kubeconfig");
    }
    Ok(())
}
