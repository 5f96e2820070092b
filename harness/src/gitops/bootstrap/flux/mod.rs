//! Bootstrap with Flux, on any cluster: install Flux ([`install`]), restore
//! the secrets, apply the `flux-system` GitRepository (OCIRepository for an artifact) and Kustomization
//! ([`sync`]) and wait until both are Ready at the head revision
//! ([`wait`]) — the sequence `flux bootstrap` runs, without its commit to
//! the repository. A Flux that runs is operated through [`control`]
//! (adopted, asked to reconcile now, uninstalled).
//!
//! On the simulator the install is [`Install::simulated`] (the simulator's
//! generated install manifests, applied exactly as a manifests file is)
//! and the simulator's emulated controllers reconcile (the simulator starts
//! them; this layer does not know it).

pub mod all_ready;
pub mod control;
pub mod install;
pub mod sync;
pub mod wait;

use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;

pub use self::install::Install;
use super::{DEFAULT_TIMEOUT, Error, Result, SyncSource, secrets};
use crate::gitops::apply::Applier;
use crate::scenario::model::{FluxSettings, SecretSource};

/// How to bootstrap Flux.
#[derive(Debug, Clone)]
pub struct FluxBootstrap {
    /// How Flux is installed.
    pub install: Install,
    /// Flux's namespace (`flux-system`).
    pub namespace: String,
    /// `spec.interval` of the GitRepository (`bootstrap.flux.interval`).
    pub interval: Duration,
    /// `spec.interval` of the Kustomization (10 min, as `flux bootstrap`).
    pub kustomization_interval: Duration,
    /// Secrets restored before the sync objects are applied.
    pub secrets: Vec<SecretSource>,
    /// How long the install, and then each sync object, may take.
    pub timeout: Duration,
    /// The kubeconfig file (needed by `flux install`).
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context.
    pub context: Option<String>,
}

impl FluxBootstrap {
    /// Flux on the simulator: install from the simulator's manifests.
    pub fn simulated(settings: &FluxSettings, secrets: &[SecretSource]) -> FluxBootstrap {
        FluxBootstrap {
            install: Install::simulated(),
            namespace: crate::flux::install::NAMESPACE.to_owned(),
            interval: settings.interval,
            kustomization_interval: Duration::from_secs(600),
            secrets: secrets.to_vec(),
            timeout: DEFAULT_TIMEOUT,
            kubeconfig: None,
            context: None,
        }
    }

    /// Flux on a real cluster: `flux install` when the CLI is on PATH (or
    /// `flux_cli` is given), else `settings.manifests`.
    ///
    /// # Errors
    /// [`Error::NoInstallMethod`] when there is neither.
    pub fn real(
        settings: &FluxSettings,
        secrets: &[SecretSource],
        kubeconfig: Option<PathBuf>,
        flux_cli: Option<&std::path::Path>,
    ) -> Result<FluxBootstrap> {
        Ok(FluxBootstrap {
            install: Install::for_real_cluster(flux_cli, settings.manifests.as_deref())?,
            kubeconfig,
            ..FluxBootstrap::simulated(settings, secrets)
        })
    }
}

/// What a Flux bootstrap did, with cluster-clock times.
#[derive(Debug, Clone, PartialEq)]
pub struct FluxReport {
    /// `flux-cli`, `manifests`, `simulated` or `skip`.
    pub install: &'static str,
    /// The revision both sync objects reached.
    pub revision: String,
    /// When the bootstrap started.
    pub started_at: Timestamp,
    /// When Flux was installed (controllers available).
    pub installed_at: Timestamp,
    /// When the GitRepository was Ready at the revision.
    pub source_ready_at: Timestamp,
    /// When the Kustomization was Ready at the revision.
    pub ready_at: Timestamp,
}

/// Runs the bootstrap against the cluster `applier` talks to, expecting
/// the sync objects to reach `expected` (`main@sha1:…`, the source's head).
/// Call without holding a `Busy` guard of a virtual clock: it waits for the
/// cluster.
///
/// # Errors
/// Installing, reading secrets, applying or waiting failed (see [`Error`]);
/// `Ready=False` on a sync object fails at once with its message.
pub async fn bootstrap(
    applier: &Applier,
    cfg: &FluxBootstrap,
    source: &SyncSource,
    expected: &str,
) -> Result<FluxReport> {
    let clock = applier.clock().clone();
    let started_at = clock.now();
    install::run(
        &cfg.install,
        applier,
        &cfg.namespace,
        cfg.kubeconfig.as_deref(),
        cfg.context.as_deref(),
        cfg.timeout,
    )
    .await?;
    let installed_at = clock.now();
    secrets::restore(applier, &cfg.secrets).await?;
    let credentials = cfg
        .secrets
        .iter()
        .any(|s| s.namespace == cfg.namespace && s.name == sync::NAME);
    let source_is_oci = source.artifact.is_some();
    let objects = sync::manifests(
        &cfg.namespace,
        source,
        cfg.interval,
        cfg.kustomization_interval,
        credentials,
    );
    applier
        .apply(objects)
        .await
        .check()
        .map_err(|source| Error::Apply {
            step: if source_is_oci {
                "applying the flux-system OCIRepository and Kustomization"
            } else {
                "applying the flux-system GitRepository and Kustomization"
            },
            source,
        })?;
    let client = applier.client();
    wait::wait_ready(
        client,
        &clock,
        wait::Kind::source_of(source),
        &cfg.namespace,
        sync::NAME,
        expected,
        cfg.timeout,
    )
    .await?;
    let source_ready_at = clock.now();
    wait::wait_ready(
        client,
        &clock,
        wait::Kind::Kustomization,
        &cfg.namespace,
        sync::NAME,
        expected,
        cfg.timeout,
    )
    .await?;
    Ok(FluxReport {
        install: cfg.install.name(),
        revision: expected.to_owned(),
        started_at,
        installed_at,
        source_ready_at,
        ready_at: clock.now(),
    })
}
