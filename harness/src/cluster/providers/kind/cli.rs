//! The `kind` command line, as gameday calls it: every call through
//! [`crate::process::Cmd`], so failures keep the pasteable command and
//! kind's own `ERROR: …` lines.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::process::Tools;
use crate::process::{Cmd, ProcessError};

const QUERY_TIMEOUT: Duration = Duration::from_secs(60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(300);
/// Time `kind create cluster` gets beyond its `--wait` (image pull, kubeadm).
const CREATE_MARGIN: Duration = Duration::from_secs(600);

/// What `kind create cluster` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// `--name`.
    pub name: String,
    /// `--config`.
    pub config: PathBuf,
    /// `--kubeconfig`: the file kind writes the cluster's context into.
    pub kubeconfig: PathBuf,
    /// `--wait`: how long kind waits for the control plane to be Ready.
    pub wait: Duration,
    /// `--image`, when the scenario names a node image.
    pub image: Option<String>,
}

/// The `kind` program.
#[derive(Debug, Clone)]
pub struct KindCli {
    program: PathBuf,
    tools: Tools,
}

impl Default for KindCli {
    fn default() -> Self {
        KindCli::new("kind", Tools::default())
    }
}

impl KindCli {
    /// `kind` at `program` (a name looked up on `PATH`, or a path), run with
    /// the environment overlay of `tools`.
    pub fn new(program: impl Into<PathBuf>, tools: Tools) -> KindCli {
        KindCli {
            program: program.into(),
            tools,
        }
    }

    /// The environment overlay.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    fn cmd(&self) -> Cmd {
        self.tools.cmd(&self.program)
    }

    /// `kind version`: is kind installed?
    ///
    /// # Errors
    /// [`ProcessError::Spawn`] when it is not.
    pub async fn version(&self) -> Result<String, ProcessError> {
        let out = self
            .cmd()
            .arg("version")
            .timeout(QUERY_TIMEOUT)
            .output()
            .await?;
        Ok(out.stdout.trim().to_owned())
    }

    /// `kind get clusters`: the names, one per line (kind says "No kind
    /// clusters found." on stderr when there are none).
    ///
    /// # Errors
    /// The failed command.
    pub async fn get_clusters(&self) -> Result<Vec<String>, ProcessError> {
        let out = self
            .cmd()
            .args(["get", "clusters"])
            .timeout(QUERY_TIMEOUT)
            .output()
            .await?;
        Ok(out
            .stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// `kind get kubeconfig --name NAME`: the cluster's kubeconfig YAML
    /// (context `kind-<name>`), without touching any file.
    ///
    /// # Errors
    /// The failed command (an unknown cluster: "could not locate any control
    /// plane nodes").
    pub async fn get_kubeconfig(&self, name: &str) -> Result<String, ProcessError> {
        let out = self
            .cmd()
            .args(["get", "kubeconfig", "--name", name])
            .timeout(QUERY_TIMEOUT)
            .output()
            .await?;
        Ok(out.stdout)
    }

    /// The `kind create cluster` command for a request.
    pub fn create_command(&self, req: &CreateRequest) -> Cmd {
        let mut cmd = self
            .cmd()
            .args(["create", "cluster", "--name", &req.name])
            .arg("--config")
            .arg(&req.config)
            .arg("--kubeconfig")
            .arg(&req.kubeconfig)
            .args(["--wait", &go_duration(req.wait)]);
        if let Some(image) = &req.image {
            cmd = cmd.args(["--image", image]);
        }
        cmd.timeout(req.wait + CREATE_MARGIN)
    }

    /// `kind create cluster …`.
    ///
    /// # Errors
    /// The failed command (kind removes the nodes of a failed create itself,
    /// as gameday never passes kind's `--retain`).
    pub async fn create_cluster(&self, req: &CreateRequest) -> Result<(), ProcessError> {
        self.create_command(req).output().await.map(|_| ())
    }

    /// `kind delete cluster --name NAME [--kubeconfig FILE]`: idempotent.
    /// Callers check ownership first ([`crate::cluster::ownership`]).
    ///
    /// # Errors
    /// The failed command.
    pub async fn delete_cluster(
        &self,
        name: &str,
        kubeconfig: Option<&Path>,
    ) -> Result<(), ProcessError> {
        let mut cmd = self.cmd().args(["delete", "cluster", "--name", name]);
        if let Some(k) = kubeconfig {
            cmd = cmd.arg("--kubeconfig").arg(k);
        }
        cmd.timeout(DELETE_TIMEOUT).output().await.map(|_| ())
    }
}

/// A duration as Go's `time.ParseDuration` reads it (`300s`, `1500ms`).
pub fn go_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_command_is_exactly_what_the_docs_say() {
        let req = CreateRequest {
            name: "gameday-x-1a2b3c".into(),
            config: "/r/x.kind.yaml".into(),
            kubeconfig: "/r/kubeconfig".into(),
            wait: Duration::from_secs(300),
            image: Some("kindest/node:v1.33.1".into()),
        };
        assert_eq!(
            KindCli::default().create_command(&req).display(),
            "kind create cluster --name gameday-x-1a2b3c --config /r/x.kind.yaml --kubeconfig /r/kubeconfig --wait 300s --image kindest/node:v1.33.1"
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(go_duration(Duration::from_secs(0)), "0s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1500ms");
    }
}
