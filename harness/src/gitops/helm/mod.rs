//! The real `helm` CLI (found by [`crate::process::Lookup`]: `GAMEDAY_HELM`,
//! `PATH`, then `.tools/bin/helm`), driven against a cluster through a
//! kubeconfig: what the simulator's emulated helm-controller runs for a
//! `HelmRelease`, and what a person runs by hand (`helm list -A`,
//! `helm history`, `helm get values`).
//!
//! Every command runs with a scratch Helm home (`HELM_CACHE_HOME`,
//! `HELM_CONFIG_HOME`, `HELM_DATA_HOME`) removed when the [`Helm`] is
//! dropped, and every `HELM_*` variable of the environment unset, so the
//! user's repositories, plugins and registry logins never take part. The
//! release storage is Helm's own (`secret` driver: Secrets
//! `sh.helm.release.v1.<release>.v<N>` in the release's namespace).
//!
//! Supported versions: Helm 3.8 and later (JSON output of `list`,
//! `history` and `get values`; `make tools` installs 3.17.2). Helm 4 works
//! the same for these commands.

pub mod archive;
pub mod index;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::process::{Cmd, Lookup, LookupError, Output, ProcessError};

/// Longest a single helm command may run (helm's own `--timeout` bounds
/// hooks; this bounds helm itself).
const COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// Errors of running helm.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `helm` is not installed.
    #[error(transparent)]
    Tool(#[from] LookupError),
    /// The scratch Helm home or a values file could not be written.
    #[error("cannot prepare a scratch folder for helm: {0}")]
    Scratch(#[source] std::io::Error),
    /// helm ran and failed: `message` is its own error, without `Error: `.
    #[error("{message}")]
    Failed {
        /// What helm printed as its error.
        message: String,
        /// The command and its exit.
        #[source]
        source: ProcessError,
    },
    /// helm could not be run, or did not finish in time.
    #[error("could not run helm")]
    Run(#[source] ProcessError),
    /// helm's JSON output did not parse.
    #[error("unexpected output of `helm {command}`: {source}")]
    Output {
        /// The subcommand.
        command: &'static str,
        /// The parse error.
        #[source]
        source: serde_json::Error,
    },
}

/// One release as `helm list -o json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Listed {
    /// Release name.
    pub name: String,
    /// Release namespace.
    pub namespace: String,
    /// Latest revision (a string in helm's JSON).
    pub revision: String,
    /// `deployed`, `failed`…
    pub status: String,
    /// `<chart name>-<chart version>`.
    pub chart: String,
    /// The chart's appVersion.
    #[serde(default)]
    pub app_version: String,
}

/// One revision as `helm history -o json` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Revision {
    /// Revision number.
    pub revision: u32,
    /// `deployed`, `superseded`, `failed`…
    pub status: String,
    /// `<chart name>-<chart version>`.
    pub chart: String,
    /// The chart's appVersion.
    #[serde(default)]
    pub app_version: String,
    /// `Install complete`, `Upgrade complete`, `Rollback to 1`…
    pub description: String,
}

/// CRDs of a chart's `crds/` folder: install them or not (helm's
/// `--skip-crds`). Replacing existing CRDs is the caller's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crds {
    /// Create the CRDs the cluster lacks (helm's default on install).
    #[default]
    Create,
    /// Leave them alone.
    Skip,
}

/// An `helm upgrade --install` of a chart.
#[derive(Debug, Clone)]
pub struct Upgrade<'a> {
    /// Release name.
    pub release: &'a str,
    /// Release namespace (objects without a namespace go there, and so
    /// does the release storage).
    pub namespace: &'a str,
    /// The chart: a folder or a `.tgz` archive.
    pub chart: &'a Path,
    /// The values (one document, passed as a values file).
    pub values: &'a Value,
    /// Hooks' timeout.
    pub timeout: Duration,
    /// CRDs of the chart's `crds/` folder.
    pub crds: Crds,
    /// Revisions kept (0: all).
    pub max_history: u32,
    /// Create the namespace when missing.
    pub create_namespace: bool,
    /// Run no hooks.
    pub disable_hooks: bool,
    /// Give the release this description (helm-controller writes none;
    /// gameday leaves Helm's own when None).
    pub description: Option<&'a str>,
}

/// The helm CLI against one cluster.
#[derive(Debug)]
pub struct Helm {
    bin: PathBuf,
    kubeconfig: PathBuf,
    home: tempfile::TempDir,
    lookup: Lookup,
}

impl Helm {
    /// helm found with `lookup`, against the cluster of `kubeconfig`.
    ///
    /// # Errors
    /// [`Error::Tool`] when helm is nowhere; [`Error::Scratch`].
    pub fn new(lookup: &Lookup, kubeconfig: &Path) -> Result<Helm, Error> {
        let bin = lookup.find("helm")?;
        let home = tempfile::Builder::new()
            .prefix("gameday-helm-")
            .tempdir()
            .map_err(Error::Scratch)?;
        Ok(Helm {
            bin,
            kubeconfig: kubeconfig.to_owned(),
            home,
            lookup: lookup.clone(),
        })
    }

    /// The binary in use.
    pub fn binary(&self) -> &Path {
        &self.bin
    }

    /// A helm command with `args`, the kubeconfig and the scratch home.
    pub fn cmd<I, S>(&self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let home = self.home.path();
        let mut cmd = self.lookup.env().cmd(&self.bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("HELM_") {
                cmd = cmd.env_remove(k);
            }
        }
        cmd.args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HOME", home)
            .timeout(COMMAND_TIMEOUT)
    }

    async fn run(&self, cmd: Cmd) -> Result<Output, Error> {
        match cmd.output().await {
            Ok(out) => Ok(out),
            Err(e @ ProcessError::Failed { .. }) => {
                let message = helm_error(e.stderr().unwrap_or_default());
                Err(Error::Failed { message, source: e })
            }
            Err(e) => Err(Error::Run(e)),
        }
    }

    /// `helm version --short` (`v3.17.2+gcc0bbbd`).
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`].
    pub async fn version(&self) -> Result<String, Error> {
        let out = self.run(self.cmd(["version", "--short"])).await?;
        Ok(out.stdout.trim().to_owned())
    }

    /// `helm upgrade --install` without `--wait` (health is judged by the
    /// caller, on the cluster's clock).
    ///
    /// # Errors
    /// [`Error::Failed`] with helm's message (a failed release is stored
    /// by helm as `failed`); [`Error::Scratch`], [`Error::Run`].
    pub async fn upgrade_install(&self, u: &Upgrade<'_>) -> Result<Output, Error> {
        let values = self.home.path().join(format!("values-{}.yaml", u.release));
        let text = serde_yaml::to_string(u.values).unwrap_or_default();
        std::fs::write(&values, text).map_err(Error::Scratch)?;
        let mut args: Vec<std::ffi::OsString> = vec![
            "upgrade".into(),
            "--install".into(),
            u.release.into(),
            u.chart.into(),
            "--namespace".into(),
            u.namespace.into(),
            "--values".into(),
            values.into(),
            "--timeout".into(),
            format!("{}s", u.timeout.as_secs()).into(),
            "--history-max".into(),
            u.max_history.to_string().into(),
            "--reset-values".into(),
        ];
        if u.crds == Crds::Skip {
            args.push("--skip-crds".into());
        }
        if u.create_namespace {
            args.push("--create-namespace".into());
        }
        if u.disable_hooks {
            args.push("--no-hooks".into());
        }
        if let Some(d) = u.description {
            args.extend(["--description".into(), d.into()]);
        }
        self.run(self.cmd(args)).await
    }

    /// `helm rollback <release> [<revision>]` (0: the previous one).
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`].
    pub async fn rollback(&self, release: &str, namespace: &str, to: u32) -> Result<(), Error> {
        let mut args = vec!["rollback", release, "--namespace", namespace];
        let to = to.to_string();
        if to != "0" {
            args.insert(2, &to);
        }
        self.run(self.cmd(args)).await.map(drop)
    }

    /// `helm uninstall` (`--keep-history` when asked).
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`].
    pub async fn uninstall(
        &self,
        release: &str,
        namespace: &str,
        keep_history: bool,
    ) -> Result<(), Error> {
        let mut args = vec!["uninstall", release, "--namespace", namespace];
        if keep_history {
            args.push("--keep-history");
        }
        self.run(self.cmd(args)).await.map(drop)
    }

    /// `helm test` of a release.
    ///
    /// # Errors
    /// [`Error::Failed`] when a test hook fails; [`Error::Run`].
    pub async fn test(
        &self,
        release: &str,
        namespace: &str,
        timeout: Duration,
    ) -> Result<Output, Error> {
        let t = format!("{}s", timeout.as_secs());
        let args = ["test", release, "--namespace", namespace, "--timeout", &t];
        self.run(self.cmd(args)).await
    }

    /// `helm list` in `namespace`, or in all namespaces (`-A`) when None;
    /// every state (`--all`).
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`], [`Error::Output`].
    pub async fn list(&self, namespace: Option<&str>) -> Result<Vec<Listed>, Error> {
        let mut args = vec!["list", "--all", "-o", "json"];
        match namespace {
            Some(ns) => args.extend(["--namespace", ns]),
            None => args.push("--all-namespaces"),
        }
        let out = self.run(self.cmd(args)).await?;
        serde_json::from_str(&out.stdout).map_err(|source| Error::Output {
            command: "list",
            source,
        })
    }

    /// `helm history` of a release, oldest first.
    ///
    /// # Errors
    /// [`Error::Failed`] (`release: not found`), [`Error::Run`],
    /// [`Error::Output`].
    pub async fn history(&self, release: &str, namespace: &str) -> Result<Vec<Revision>, Error> {
        let args = ["history", release, "--namespace", namespace, "-o", "json"];
        let out = self.run(self.cmd(args)).await?;
        serde_json::from_str(&out.stdout).map_err(|source| Error::Output {
            command: "history",
            source,
        })
    }

    /// `helm get values` of a release: the user-supplied values (`null`
    /// when none).
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`], [`Error::Output`].
    pub async fn get_values(&self, release: &str, namespace: &str) -> Result<Value, Error> {
        let args = [
            "get",
            "values",
            release,
            "--namespace",
            namespace,
            "-o",
            "json",
        ];
        let out = self.run(self.cmd(args)).await?;
        serde_json::from_str(&out.stdout).map_err(|source| Error::Output {
            command: "get values",
            source,
        })
    }

    /// `helm get hooks` of a release: its hooks (tests included), as YAML.
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`].
    pub async fn get_hooks(&self, release: &str, namespace: &str) -> Result<String, Error> {
        let args = ["get", "hooks", release, "--namespace", namespace];
        Ok(self.run(self.cmd(args)).await?.stdout)
    }

    /// `helm get manifest` of a release: the rendered objects, as YAML.
    ///
    /// # Errors
    /// [`Error::Failed`], [`Error::Run`].
    pub async fn get_manifest(&self, release: &str, namespace: &str) -> Result<String, Error> {
        let args = ["get", "manifest", release, "--namespace", namespace];
        Ok(self.run(self.cmd(args)).await?.stdout)
    }
}

/// helm's error, from its stderr: the `Error: …` line(s) without the
/// prefix, else the last non-empty line.
pub fn helm_error(stderr: &str) -> String {
    let from_error = stderr
        .find("Error: ")
        .map(|i| stderr[i + "Error: ".len()..].trim().to_owned());
    from_error
        .filter(|m| !m.is_empty())
        .or_else(|| {
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| l.trim().to_owned())
        })
        .unwrap_or_else(|| "helm failed without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_errors_lose_their_prefix() {
        let stderr = "W1205 warning line\nError: UPGRADE FAILED: cannot patch \"x\"\n";
        assert_eq!(helm_error(stderr), "UPGRADE FAILED: cannot patch \"x\"");
        assert_eq!(helm_error("boom\n\n"), "boom");
        assert_eq!(helm_error(""), "helm failed without a message");
    }
}
