//! The kind cluster config (`kind.x-k8s.io/v1alpha4`) a drill creates its
//! cluster from, and the node containers kind will name from it.
//!
//! With `spec.cluster.kind.config` the user's file is passed to kind as it
//! is (kind's `--name` overrides its `name`); gameday only reads its node
//! list. Without one, gameday writes a config with one control plane and
//! `spec.cluster.sim.nodes - 1` workers, so `--provider kind` gives a
//! scenario the same node count it has on the simulator.

use std::path::{Path, PathBuf};

/// A node's role in a kind config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `control-plane`.
    ControlPlane,
    /// `worker`.
    Worker,
}

/// A node container of a kind cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Container (and Kubernetes node) name, e.g. `gameday-x-1a2b3c-worker2`.
    pub container: String,
    /// Its role.
    pub role: Role,
}

/// Errors of reading a kind config.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read the kind config {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a kind cluster config.
    #[error("{} is not a kind cluster config: {why}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The generated config cannot be written.
    #[error("cannot write the kind config {}", .path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The node roles of a kind config text, in file order. A config without
/// `nodes` has one control plane, as kind defaults.
///
/// # Errors
/// [`Error::Invalid`] when it is not YAML of `kind: Cluster`, a role is
/// unknown, or there is no control plane.
pub fn roles(text: &str, path: &Path) -> Result<Vec<Role>, Error> {
    let invalid = |why: String| Error::Invalid {
        path: path.to_owned(),
        why,
    };
    let doc: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?;
    if doc.get("kind").and_then(serde_yaml::Value::as_str) != Some("Cluster") {
        return Err(invalid(
            "expected `kind: Cluster` (apiVersion kind.x-k8s.io/v1alpha4)".into(),
        ));
    }
    let Some(nodes) = doc.get("nodes") else {
        return Ok(vec![Role::ControlPlane]);
    };
    let nodes = nodes
        .as_sequence()
        .ok_or_else(|| invalid("`nodes` must be a list".into()))?;
    let mut out = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        // kind defaults a node's role to control-plane.
        let role = match n.get("role").and_then(serde_yaml::Value::as_str) {
            None | Some("control-plane") => Role::ControlPlane,
            Some("worker") => Role::Worker,
            Some(other) => {
                return Err(invalid(format!(
                    "nodes[{i}].role {other:?} is not control-plane or worker"
                )));
            }
        };
        out.push(role);
    }
    if !out.contains(&Role::ControlPlane) {
        return Err(invalid(
            "it must have at least one control-plane node".into(),
        ));
    }
    Ok(out)
}

/// The config gameday writes when the scenario names none: one control
/// plane and `nodes - 1` workers.
pub fn generated(nodes: u32) -> String {
    let mut out = String::from(
        "# Written by gameday: one control plane, the other nodes workers\n# (spec.cluster.sim.nodes; give spec.cluster.kind.config to choose).\nkind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n",
    );
    for _ in 1..nodes.max(1) {
        out.push_str("  - role: worker\n");
    }
    out
}

/// The config file to pass to `kind create cluster` and its node roles:
/// the scenario's own file, or one written into `dir`.
///
/// # Errors
/// When the file cannot be read or written, or is not a kind config.
pub fn prepare(
    config: Option<&Path>,
    nodes: u32,
    dir: &Path,
    cluster: &str,
) -> Result<(PathBuf, Vec<Role>), Error> {
    match config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.to_owned(),
                source,
            })?;
            Ok((path.to_owned(), roles(&text, path)?))
        }
        None => {
            let path = dir.join(format!("{cluster}.kind.yaml"));
            let text = generated(nodes);
            std::fs::write(&path, &text).map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
            Ok((path.clone(), roles(&text, &path)?))
        }
    }
}

/// The node containers kind creates for `roles`: `<cluster>-<role><n>`,
/// n blank for the first of a role and 2, 3, … after (an HA control plane's
/// load balancer is not a node and is not listed).
pub fn nodes(cluster: &str, roles: &[Role]) -> Vec<Node> {
    let (mut cp, mut w) = (0, 0);
    roles
        .iter()
        .map(|role| {
            let (base, n) = match role {
                Role::ControlPlane => {
                    cp += 1;
                    ("control-plane", cp)
                }
                Role::Worker => {
                    w += 1;
                    ("worker", w)
                }
            };
            let suffix = if n == 1 { String::new() } else { n.to_string() };
            Node {
                container: format!("{cluster}-{base}{suffix}"),
                role: *role,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_are_named_as_kind_names_them() {
        let names: Vec<String> = nodes(
            "c",
            &[Role::ControlPlane, Role::Worker, Role::Worker, Role::Worker],
        )
        .into_iter()
        .map(|n| n.container)
        .collect();
        assert_eq!(
            names,
            ["c-control-plane", "c-worker", "c-worker2", "c-worker3"]
        );
        let ha = nodes("c", &[Role::ControlPlane, Role::ControlPlane]);
        assert_eq!(ha[1].container, "c-control-plane2");
    }

    #[test]
    fn reads_the_fixture_and_the_generated_config() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/kind/three-nodes.yaml");
        let text = std::fs::read_to_string(&p).unwrap();
        assert_eq!(
            roles(&text, &p).unwrap(),
            [Role::ControlPlane, Role::Worker, Role::Worker]
        );
        assert_eq!(
            roles(&generated(3), &p).unwrap(),
            [Role::ControlPlane, Role::Worker, Role::Worker]
        );
        assert_eq!(roles(&generated(1), &p).unwrap(), [Role::ControlPlane]);
        let minimal = "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n";
        assert_eq!(roles(minimal, &p).unwrap(), [Role::ControlPlane]);
    }

    #[test]
    fn refuses_what_kind_would_refuse() {
        let p = Path::new("k.yaml");
        let e = roles("kind: Pod\n", p).unwrap_err();
        assert!(e.to_string().contains("kind: Cluster"), "{e}");
        let e = roles("kind: Cluster\nnodes:\n  - role: worker\n", p).unwrap_err();
        assert!(e.to_string().contains("control-plane"), "{e}");
        let e = roles("kind: Cluster\nnodes:\n  - role: etcd\n", p).unwrap_err();
        assert!(e.to_string().contains("nodes[0].role"), "{e}");
    }
}
