//! Installing Flux: with its CLI when it is on PATH (`flux install`),
//! otherwise by applying its install manifests with the apply engine — from
//! a file, from an https URL (downloaded with `curl` through the process
//! module), or, on the simulator, the manifests the simulator generates.
//! Manifests are applied as `flux install` applies them (server-side, field
//! manager `flux`), then the controller Deployments are waited for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gitops::apply::{Applier, ApplyOptions, Manifest, ObjectId, Versioned};
use crate::gitops::bootstrap::{Error, Result};
use crate::process::{Cmd, redact};

/// The field manager `flux install` applies with.
pub const FIELD_MANAGER: &str = "flux";

/// How Flux gets installed.
#[derive(Debug, Clone, PartialEq)]
pub enum Install {
    /// `flux install` with this program.
    Cli {
        /// The `flux` executable.
        program: PathBuf,
        /// Extra environment for it (proxies, a test double's settings).
        env: Vec<(String, String)>,
    },
    /// Apply the manifests in this file or at this `https://` URL.
    Manifests {
        /// File path or URL.
        location: String,
    },
    /// Apply these manifests (the simulator's, see
    /// [`crate::flux::install`]).
    Objects(Vec<Manifest>),
    /// Flux is already installed.
    Skip,
}

impl Install {
    /// The simulator's install: its generated manifests.
    pub fn simulated() -> Install {
        Install::Objects(Manifest::generated(
            crate::flux::install::objects(),
            "flux install manifests (simulated)",
        ))
    }

    /// The method for a real cluster: the `flux` CLI when it is on PATH
    /// (or given), otherwise the manifests of `bootstrap.flux.manifests`.
    ///
    /// # Errors
    /// [`Error::NoInstallMethod`] when there is neither.
    pub fn for_real_cluster(flux_cli: Option<&Path>, manifests: Option<&str>) -> Result<Install> {
        if let Some(p) = flux_cli
            .map(Path::to_path_buf)
            .or_else(|| find_on_path("flux"))
        {
            return Ok(Install::Cli {
                program: p,
                env: Vec::new(),
            });
        }
        match manifests {
            Some(m) => Ok(Install::Manifests {
                location: m.to_owned(),
            }),
            None => Err(Error::NoInstallMethod),
        }
    }

    /// A short name for reports: `flux-cli`, `manifests`, `simulated`, `skip`.
    pub fn name(&self) -> &'static str {
        match self {
            Install::Cli { .. } => "flux-cli",
            Install::Manifests { .. } => "manifests",
            Install::Objects(_) => "simulated",
            Install::Skip => "skip",
        }
    }
}

/// The first executable `program` on `PATH`.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Reads install manifests from a file or an `http(s)://` URL.
///
/// # Errors
/// [`Error::ManifestsRead`], [`Error::ManifestsDownload`] or
/// [`Error::ManifestsParse`].
pub async fn load_manifests(location: &str) -> Result<Vec<Manifest>> {
    let text = if location.starts_with("https://") || location.starts_with("http://") {
        Cmd::new("curl")
            .args([
                "--fail",
                "--silent",
                "--show-error",
                "--location",
                "--max-time",
                "120",
                "--",
            ])
            .arg(location)
            .timeout(Duration::from_secs(150))
            .output()
            .await
            .map_err(|source| Error::ManifestsDownload {
                url: redact(location),
                source,
            })?
            .stdout
    } else {
        std::fs::read_to_string(location).map_err(|source| Error::ManifestsRead {
            path: PathBuf::from(location),
            source,
        })?
    };
    let shown = redact(location);
    let docs =
        crate::gitops::yaml::documents::parse(&text).map_err(|source| Error::ManifestsParse {
            location: shown.clone(),
            source,
        })?;
    Ok(docs
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| {
            let at = match d.line {
                Some(l) => format!("{shown}, document {} (line {l})", d.index + 1),
                None => format!("{shown}, document {}", d.index + 1),
            };
            Manifest::new(d.value).with_origin(at)
        })
        .collect())
}

/// The controller Deployments among install manifests.
fn deployments(manifests: &[Manifest], namespace: &str) -> Vec<Versioned> {
    manifests
        .iter()
        .filter(|m| m.object["kind"] == "Deployment")
        .filter_map(|m| {
            let name = m.object.pointer("/metadata/name")?.as_str()?;
            Some(Versioned {
                id: ObjectId::namespaced("apps", "Deployment", namespace, name),
                version: "v1".to_owned(),
            })
        })
        .collect()
}

/// Runs the install and waits for the controllers (at most `timeout`).
///
/// # Errors
/// [`Error::Install`] when `flux install` fails; [`Error::Apply`] when the
/// manifests do not apply or the controllers do not become available.
pub async fn run(
    install: &Install,
    applier: &Applier,
    namespace: &str,
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    timeout: Duration,
) -> Result<()> {
    let manifests = match install {
        Install::Skip => return Ok(()),
        Install::Cli { program, env } => {
            let kubeconfig = kubeconfig.ok_or(Error::NoKubeconfig)?;
            let mut cmd = Cmd::new(program)
                .args(["install", "--namespace", namespace])
                .arg("--timeout")
                .arg(format!("{}s", timeout.as_secs().max(1)))
                .arg("--kubeconfig")
                .arg(kubeconfig)
                .timeout(timeout + Duration::from_secs(60));
            if let Some(c) = context {
                cmd = cmd.args(["--context", c]);
            }
            for (k, v) in env {
                cmd = cmd.env(k, v);
            }
            cmd.output().await.map_err(Error::Install)?;
            // `flux install` waits for its controllers itself.
            return Ok(());
        }
        Install::Manifests { location } => load_manifests(location).await?,
        Install::Objects(objects) => objects.clone(),
    };
    let installer = applier.with_options(ApplyOptions {
        field_manager: FIELD_MANAGER.to_owned(),
        ..applier.options().clone()
    });
    let controllers = deployments(&manifests, namespace);
    // Right after `controller-loss` the namespace may still be finalizing:
    // objects created in it now would be refused (403 "being terminated").
    wait_not_terminating(applier, namespace, timeout).await?;
    installer
        .apply(manifests)
        .await
        .check()
        .map_err(|source| Error::Apply {
            step: "applying Flux's install manifests",
            source,
        })?;
    installer
        .wait_healthy(&controllers, timeout)
        .await
        .map_err(|source| Error::Apply {
            step: "waiting for the Flux controllers to become available",
            source,
        })?;
    Ok(())
}

/// Waits until `namespace` is gone or active, not being deleted (at most
/// `timeout` on the cluster's clock), as a re-install after `flux
/// uninstall` must, looking every 250 ms. The first look waits for the
/// cluster to settle at this instant ([`crate::clock::Clock::settle`]): a
/// namespace deleted just now is still being finalized on a simulated
/// cluster at this same simulated instant, and whether the look saw it
/// gone would otherwise depend on the machine — the re-install's
/// simulated time with it.
///
/// # Errors
/// [`Error::Kube`] when the namespace cannot be read; [`Error::Timeout`]
/// when it is still terminating after `timeout`.
async fn wait_not_terminating(applier: &Applier, namespace: &str, timeout: Duration) -> Result<()> {
    use k8s_openapi::api::core::v1::Namespace;
    let api: kube::Api<Namespace> = kube::Api::all(applier.client().clone());
    let clock = applier.clock();
    let started = clock.now();
    drop(clock.settle().await);
    loop {
        let ns = api.get_opt(namespace).await.map_err(|source| Error::Kube {
            what: format!("reading namespace {namespace}"),
            source,
        })?;
        let Some(ns) = ns.filter(|ns| ns.metadata.deletion_timestamp.is_some()) else {
            return Ok(());
        };
        if clock.since(started) >= timeout {
            let phase = ns
                .status
                .and_then(|s| s.phase)
                .unwrap_or_else(|| "Terminating".to_owned());
            return Err(Error::Timeout {
                after: timeout,
                what: format!(
                    "namespace {namespace} to finish terminating before Flux is installed again"
                ),
                last: format!("phase {phase}"),
            });
        }
        drop(clock.sleep(Duration::from_millis(250)).await);
    }
}
