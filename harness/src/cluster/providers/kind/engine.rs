//! The container engine kind's nodes run in (Docker, Podman or nerdctl):
//! which one kind will use, whether it answers, and what the drill does to
//! node containers (`stop`/`start` for node faults, `pause`/`unpause` for
//! API outages) and to the `kind` network (the host address nodes reach).
//!
//! kind picks its engine from `KIND_EXPERIMENTAL_PROVIDER` when set, else
//! the first engine installed of docker, podman and nerdctl; so does
//! [`Engine::detect`], which then asks that engine `info` and fails with an
//! error naming what it looked for when nothing answers.

use std::net::IpAddr;
use std::time::Duration;

use crate::process::Tools;
use crate::process::{Cmd, ProcessError};

/// The variable kind reads to choose its engine.
pub const PROVIDER_VAR: &str = "KIND_EXPERIMENTAL_PROVIDER";

/// The Docker network kind puts its nodes on.
pub const KIND_NETWORK: &str = "kind";

/// Engines tried when `KIND_EXPERIMENTAL_PROVIDER` is not set, in kind's order.
pub const AUTO_DETECTED: &[&str] = &["docker", "podman", "nerdctl"];

const INFO_TIMEOUT: Duration = Duration::from_secs(30);
const CONTAINER_TIMEOUT: Duration = Duration::from_secs(120);

/// Errors of the container engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `KIND_EXPERIMENTAL_PROVIDER` names no engine kind knows.
    #[error(
        "{PROVIDER_VAR}={value:?} is not an engine kind knows; use docker, podman, nerdctl, finch or nerdctl.lima (or unset it)"
    )]
    UnknownProvider {
        /// The value.
        value: String,
    },
    /// No engine answered.
    #[error("no container engine answers for kind ({}): {hint}", tried.join("; "))]
    NoEngine {
        /// What was tried, each with what happened.
        tried: Vec<String>,
        /// What to do.
        hint: &'static str,
    },
    /// A command on a container or network failed.
    #[error("{what}")]
    Command {
        /// What was being done.
        what: String,
        /// The failed command.
        #[source]
        source: ProcessError,
    },
    /// The `kind` network has no IPv4 gateway.
    #[error("the `{network}` network of {engine} has no IPv4 gateway (inspected: {summary})")]
    NoGateway {
        /// The engine program.
        engine: String,
        /// The network.
        network: String,
        /// What `network inspect` said, shortened.
        summary: String,
    },
}

/// A container engine, by its program name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    program: String,
    tools: Tools,
}

impl Engine {
    /// An engine run as `program` (`docker`, `podman`, `nerdctl`, `finch`…)
    /// with the environment overlay of `tools`.
    pub fn new(program: impl Into<String>, tools: Tools) -> Engine {
        Engine {
            program: program.into(),
            tools,
        }
    }

    /// The program.
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The engine `KIND_EXPERIMENTAL_PROVIDER` selects, if it is set.
    ///
    /// # Errors
    /// [`Error::UnknownProvider`] for a value kind does not know.
    pub fn from_env(tools: &Tools) -> Result<Option<Engine>, Error> {
        match tools.var(PROVIDER_VAR) {
            Some(v) if !v.trim().is_empty() => match v.trim() {
                p @ ("docker" | "podman" | "nerdctl" | "finch" | "nerdctl.lima") => {
                    Ok(Some(Engine::new(p, tools.clone())))
                }
                other => Err(Error::UnknownProvider {
                    value: other.to_owned(),
                }),
            },
            _ => Ok(None),
        }
    }

    /// The engine kind will use, checked to answer `info`.
    ///
    /// # Errors
    /// [`Error::NoEngine`] naming every engine looked for and what happened.
    pub async fn detect(tools: &Tools) -> Result<Engine, Error> {
        if let Some(engine) = Engine::from_env(tools)? {
            return match engine.info().await {
                Ok(()) => Ok(engine),
                Err(e) => Err(Error::NoEngine {
                    tried: vec![format!(
                        "`{} info` ({PROVIDER_VAR}={}): {}",
                        engine.program,
                        engine.program,
                        short(&e)
                    )],
                    hint: "Start that engine, or unset KIND_EXPERIMENTAL_PROVIDER to let kind pick one.",
                }),
            };
        }
        let mut tried = Vec::new();
        for program in AUTO_DETECTED {
            let engine = Engine::new(*program, tools.clone());
            match engine.info().await {
                Ok(()) => return Ok(engine),
                // kind uses the first engine installed even when it does not
                // answer, so a stopped Docker is the answer, not a reason to
                // try Podman.
                Err(e) if !e.is_not_found() => {
                    return Err(Error::NoEngine {
                        tried: vec![format!("`{program} info`: {}", short(&e))],
                        hint: "kind uses the first engine installed (docker, then podman, then nerdctl): start it, or set KIND_EXPERIMENTAL_PROVIDER to another engine (e.g. podman).",
                    });
                }
                Err(_) => tried.push(format!("`{program}` (not found on PATH)")),
            }
        }
        Err(Error::NoEngine {
            tried,
            hint: "Install Docker or Podman (https://kind.sigs.k8s.io/docs/user/quick-start/), or run the drill on the simulator (--provider sim).",
        })
    }

    fn cmd(&self) -> Cmd {
        self.tools.cmd(&self.program)
    }

    /// `<engine> info`: does it answer?
    ///
    /// # Errors
    /// The failed command.
    pub async fn info(&self) -> Result<(), ProcessError> {
        self.cmd()
            .arg("info")
            .timeout(INFO_TIMEOUT)
            .output()
            .await
            .map(|_| ())
    }

    async fn container(&self, verb: &str, container: &str) -> Result<(), Error> {
        self.cmd()
            .args([verb, container])
            .timeout(CONTAINER_TIMEOUT)
            .output()
            .await
            .map(|_| ())
            .map_err(|source| Error::Command {
                what: format!("cannot {verb} container {container}"),
                source,
            })
    }

    /// `stop`s a node container: its kubelet and pods stop (node-loss).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub async fn stop(&self, container: &str) -> Result<(), Error> {
        self.container("stop", container).await
    }

    /// `start`s a stopped node container.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub async fn start(&self, container: &str) -> Result<(), Error> {
        self.container("start", container).await
    }

    /// `pause`s a container (its processes freeze; api-outage).
    ///
    /// # Errors
    /// [`Error::Command`].
    pub async fn pause(&self, container: &str) -> Result<(), Error> {
        self.container("pause", container).await
    }

    /// `unpause`s a paused container.
    ///
    /// # Errors
    /// [`Error::Command`].
    pub async fn unpause(&self, container: &str) -> Result<(), Error> {
        self.container("unpause", container).await
    }

    /// The IPv4 gateway of a network: the address of this machine that
    /// containers on it reach.
    ///
    /// # Errors
    /// [`Error::Command`] when the network cannot be inspected (kind creates
    /// the `kind` network with its first cluster), [`Error::NoGateway`].
    pub async fn network_gateway(&self, network: &str) -> Result<IpAddr, Error> {
        let out = self
            .cmd()
            .args(["network", "inspect", network])
            .timeout(INFO_TIMEOUT)
            .output()
            .await
            .map_err(|source| Error::Command {
                what: format!("cannot inspect the `{network}` network of {}", self.program),
                source,
            })?;
        parse_gateway(&out.stdout).ok_or_else(|| Error::NoGateway {
            engine: self.program.clone(),
            network: network.to_owned(),
            summary: out.stdout.chars().take(200).collect(),
        })
    }
}

/// The first IPv4 gateway in `network inspect` JSON, in Docker's shape
/// (`[{"IPAM":{"Config":[{"Gateway":…}]}}]`, nerdctl too) or Podman's
/// (`[{"subnets":[{"gateway":…}]}]`).
pub fn parse_gateway(json: &str) -> Option<IpAddr> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let network = v.as_array()?.first()?;
    let docker = network
        .pointer("/IPAM/Config")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("Gateway"));
    let podman = network
        .get("subnets")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("gateway"));
    docker
        .chain(podman)
        .filter_map(|g| g.as_str()?.parse::<IpAddr>().ok())
        .find(IpAddr::is_ipv4)
}

/// The gist of a failed command for a one-line list.
fn short(e: &ProcessError) -> String {
    match e {
        ProcessError::Failed {
            output_tail,
            status,
            ..
        } => {
            let last = output_tail.lines().last().unwrap_or("").trim();
            if last.is_empty() {
                status.clone()
            } else {
                format!("{status}: {last}")
            }
        }
        other => other.to_string().lines().next().unwrap_or("").to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gateway_of_docker_and_podman_networks() {
        let docker = r#"[{"Name":"kind","IPAM":{"Config":[{"Subnet":"fc00:f853:ccd:e793::/64","Gateway":"fc00:f853:ccd:e793::1"},{"Subnet":"172.18.0.0/16","Gateway":"172.18.0.1"}]}}]"#;
        assert_eq!(parse_gateway(docker), Some("172.18.0.1".parse().unwrap()));
        let podman =
            r#"[{"name":"kind","subnets":[{"subnet":"10.89.0.0/24","gateway":"10.89.0.1"}]}]"#;
        assert_eq!(parse_gateway(podman), Some("10.89.0.1".parse().unwrap()));
        let v6_only = r#"[{"IPAM":{"Config":[{"Gateway":"fc00::1"}]}}]"#;
        assert_eq!(parse_gateway(v6_only), None);
        assert_eq!(parse_gateway("not json"), None);
        assert_eq!(parse_gateway("[]"), None);
    }
}
