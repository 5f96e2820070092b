//! `gameday sim serve` as a library function: start a cluster, write its
//! kubeconfig, bootstrap it from a repository when asked
//! ([`crate::sim::from_source`]), serve until SIGINT/SIGTERM, clean up.

use std::path::{Path, PathBuf};

use tokio::signal::unix::{SignalKind, signal};
use tracing::info;

use super::control::ControlServer;
use super::kubeconfig::{Claimed, Released};
use crate::sim::cluster::{SimCluster, SimOptions};
use crate::sim::flux::FluxOptions;
use crate::sim::from_source::{self, FromSource};
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
    /// Replace an existing kubeconfig file until exit (it is backed up
    /// and put back; see [`Claimed`]).
    pub force: bool,
    /// A unix socket for fault commands (see [`super::control`]).
    pub control: Option<&'a Path>,
    /// Run the Flux emulation: `GitRepository` and `Kustomization` objects
    /// are reconciled once Flux's install manifests are applied.
    pub flux: bool,
    /// Bootstrap the cluster from this repository before it is ready (the
    /// Flux emulation runs too).
    pub source: Option<&'a FromSource>,
    /// Local folders standing in for remote URLs the emulated
    /// source-controller fetches (`--mirror URL=PATH`).
    pub mirrors: &'a crate::gitops::mirror::Mirrors,
}

/// What [`serve`] announces once the cluster is ready.
#[derive(Debug, Clone, Copy)]
pub struct Ready<'a> {
    /// The kubeconfig written.
    pub kubeconfig: &'a Path,
    /// With a source: what is Ready (`3 Kustomization(s) Ready at main@sha1:…`).
    pub bootstrapped: Option<&'a str>,
}

/// Serves a simulated cluster until SIGINT or SIGTERM.
///
/// Once the API accepts requests, the kubeconfig (mode 0600) is written
/// and — with a source — every Kustomization is Ready (or the direct
/// applier's first apply succeeded), `on_ready` is called once (the CLI
/// prints `ready: kubeconfig written to PATH`). On exit the kubeconfig is
/// removed (or, with `force`, the file it replaced put back; a file changed
/// since is left alone: [`Claimed`]), the control socket and the source's
/// scratch copy are removed.
///
/// # Errors
/// The kubeconfig exists (without `force`) or its folder does not
/// ([`Error::KubeconfigExists`], [`Error::KubeconfigFolder`], checked
/// before anything starts), the cluster or the Flux emulation could not start (e.g. the port is
/// taken), the kubeconfig or the control socket could not be written, the
/// signal handlers could not be installed, or the bootstrap from the
/// source failed ([`Error::FromSource`]; nothing is left serving).
pub async fn serve(
    options: SimOptions,
    serving: Serving<'_>,
    on_ready: impl FnOnce(Ready<'_>),
) -> Result<()> {
    let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::Signal)?;
    let claimed = Claimed::new(serving.kubeconfig, serving.force)?;
    let cluster = SimCluster::start(options).await?;
    let extras = async {
        let control = serving
            .control
            .map(|path| ControlServer::start(cluster.clone(), path))
            .transpose()?;
        let flux = if serving.flux || serving.source.is_some() {
            Some(
                cluster
                    .enable_flux(FluxOptions {
                        mirrors: serving.mirrors.clone(),
                        ..FluxOptions::default()
                    })
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
    let stop = async {
        tokio::select! {
            _ = interrupt.recv() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        }
    };
    let result = run(&cluster, serving, claimed, on_ready, stop).await;
    drop(extras);
    cluster.shutdown().await;
    result
}

async fn run(
    cluster: &SimCluster,
    serving: Serving<'_>,
    mut claimed: Claimed,
    on_ready: impl FnOnce(Ready<'_>),
    stop: impl std::future::Future<Output = &'static str>,
) -> Result<()> {
    let kubeconfig = serving.kubeconfig;
    if let Err(e) = claimed.write(&cluster.kubeconfig_yaml()) {
        release(claimed);
        return Err(e);
    }
    info!(url = %cluster.url(), kubeconfig = %kubeconfig.display(), "simulated cluster serving");
    tokio::pin!(stop);
    let result = async {
        let Some(from) = serving.source else {
            on_ready(Ready {
                kubeconfig,
                bootstrapped: None,
            });
            return Ok(Some(stop.as_mut().await));
        };
        let bootstrapped = tokio::select! {
            b = from_source::bootstrap(cluster, from, kubeconfig) => {
                b.map_err(|e| Error::FromSource(Box::new(e)))?
            }
            why = stop.as_mut() => return Ok(Some(why)),
        };
        on_ready(Ready {
            kubeconfig,
            bootstrapped: Some(&bootstrapped.summary),
        });
        let why = stop.as_mut().await;
        bootstrapped.shutdown().await;
        Ok(Some(why))
    }
    .await;
    if let Ok(Some(why)) = &result {
        info!(signal = why, "stopping the simulated cluster");
    }
    release(claimed);
    result.map(|_| ())
}

fn release(claimed: Claimed) {
    let path = claimed.path().to_owned();
    match claimed.release() {
        Released::Removed => {}
        Released::Restored => {
            info!(kubeconfig = %path.display(), "the kubeconfig that was there before is back");
        }
        Released::Changed { backup } => tracing::warn!(
            kubeconfig = %path.display(),
            backup = %backup.map(|b| b.display().to_string()).unwrap_or_default(),
            "the kubeconfig changed since gameday wrote it: left as it is"
        ),
        Released::Failed(e) => {
            tracing::warn!(kubeconfig = %path.display(), error = %e, "could not remove or restore the kubeconfig");
        }
    }
}
