//! What a drill needs installed on the machine that runs it, and whether it
//! is there (`gameday doctor`).
//!
//! The needs follow from the scenario and, for a local source, from what
//! the source holds as Flux would apply it ([`crate::gitops::tree`]):
//!
//! | tool | needed when |
//! | --- | --- |
//! | `git` | always: the source is served to the cluster from a Git repository |
//! | `kubectl` | on the simulator or with `bootstrap: direct`: kustomize builds run `kubectl kustomize` |
//! | `kind`, Docker or Podman | provider `kind` (the engine must answer `info`) |
//! | `terraform` | provider `terraform`; on the simulator, a source with Terraform objects (Flux's Terraform controller is emulated with the real CLI) |
//! | `flux` | `bootstrap: flux` on a real cluster without `spec.bootstrap.flux.manifests` (nor, with provider `terraform`, a module output `flux_manifests`) |
//! | `curl` | `spec.bootstrap.flux.manifests` is an http(s) URL |
//! | `sops` | on the simulator, a Kustomization with `decryption` (SOPS) |
//! | `gpg` | the same, with a PGP key (`*.asc`) among `bootstrap.secrets` |
//! | `helm` | on the simulator, a source with HelmReleases |
//!
//! A URL source is not cloned here: what it holds is not checked.

pub mod probe;

use std::collections::BTreeSet;
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::cluster::providers::terraform::FLUX_MANIFESTS_OUTPUT;
use crate::gitops::bootstrap::flux::sync;
use crate::gitops::render::RenderOptions;
use crate::gitops::tree;
use crate::scenario::model::{BootstrapMethod, FaultKind, Provider, Scenario, SourceLocation};

/// A program a drill may need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// `git`.
    Git,
    /// `kubectl` (its built-in kustomize).
    Kubectl,
    /// `kind`.
    Kind,
    /// The container engine kind runs nodes in: Docker, Podman or nerdctl.
    ContainerEngine,
    /// `terraform`.
    Terraform,
    /// The `flux` CLI.
    Flux,
    /// `curl` (Flux install manifests from a URL).
    Curl,
    /// `sops`.
    Sops,
    /// `gpg` (SOPS with PGP keys).
    Gpg,
    /// `helm`.
    Helm,
}

impl Tool {
    /// Every tool, in the order `gameday doctor` lists them.
    pub const ALL: [Tool; 10] = [
        Tool::Git,
        Tool::Kubectl,
        Tool::Kind,
        Tool::ContainerEngine,
        Tool::Terraform,
        Tool::Flux,
        Tool::Curl,
        Tool::Sops,
        Tool::Gpg,
        Tool::Helm,
    ];

    /// The name shown (`docker/podman` for the engine).
    pub fn name(self) -> &'static str {
        match self {
            Tool::Git => "git",
            Tool::Kubectl => "kubectl",
            Tool::Kind => "kind",
            Tool::ContainerEngine => "docker/podman",
            Tool::Terraform => "terraform",
            Tool::Flux => "flux",
            Tool::Curl => "curl",
            Tool::Sops => "sops",
            Tool::Gpg => "gpg",
            Tool::Helm => "helm",
        }
    }

    /// How to install it when it is missing.
    pub fn install_hint(self) -> &'static str {
        match self {
            Tool::Git => {
                "install git with the system's package manager (apt-get install git, brew install git)"
            }
            Tool::Kubectl => {
                "https://kubernetes.io/docs/tasks/tools/ (or apt-get install kubectl from the Kubernetes apt repository)"
            }
            Tool::Kind => {
                "go install sigs.k8s.io/kind@v0.27.0, or a release binary: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
            }
            Tool::ContainerEngine => {
                "install and start Docker (https://docs.docker.com/engine/install/) or Podman (https://podman.io/docs/installation); KIND_EXPERIMENTAL_PROVIDER picks one"
            }
            Tool::Terraform => {
                "https://developer.hashicorp.com/terraform/install (no provider is downloaded by the drills)"
            }
            Tool::Flux => {
                "curl -s https://fluxcd.io/install.sh | bash, or set spec.bootstrap.flux.manifests to Flux's install.yaml"
            }
            Tool::Curl => {
                "install curl with the system's package manager, or point spec.bootstrap.flux.manifests at a local file"
            }
            Tool::Sops => {
                "`make tools` in a gameday checkout (sops 3.11 into .tools/bin/), or https://github.com/getsops/sops/releases; GAMEDAY_SOPS=/path/to/sops"
            }
            Tool::Gpg => {
                "install GnuPG (apt-get install gnupg, brew install gnupg); GAMEDAY_GPG=/path/to/gpg"
            }
            Tool::Helm => {
                "`make tools` in a gameday checkout (helm 3.17 into .tools/bin/), or https://helm.sh/docs/intro/install/; GAMEDAY_HELM=/path/to/helm"
            }
        }
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tool a scenario needs, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Need {
    /// The tool.
    pub tool: Tool,
    /// Why, for people: "provider kind".
    pub why: String,
}

/// What a scenario needs, from its file alone (provider, bootstrap,
/// faults, secrets): cheap, nothing is read but the scenario.
pub fn from_scenario(s: &Scenario) -> Vec<Need> {
    let mut needs = vec![need(
        Tool::Git,
        "the source is served to the cluster from a Git repository",
    )];
    let sim = s.cluster.provider == Provider::Sim;
    let direct = matches!(s.bootstrap.method, BootstrapMethod::Direct(_));
    if sim || direct {
        needs.push(need(
            Tool::Kubectl,
            "kustomize builds of the source run `kubectl kustomize`",
        ));
    }
    match s.cluster.provider {
        Provider::Kind => {
            needs.push(need(Tool::Kind, "provider kind"));
            needs.push(need(
                Tool::ContainerEngine,
                "provider kind: its nodes are containers",
            ));
        }
        Provider::Terraform => needs.push(need(Tool::Terraform, "provider terraform")),
        Provider::Sim | Provider::Existing => {}
    }
    if sim
        && s.disaster
            .iter()
            .any(|f| matches!(f.kind(), FaultKind::InfraLoss | FaultKind::InfraDrift))
    {
        needs.push(need(
            Tool::Terraform,
            "an infrastructure fault: the emulated Terraform controller runs `terraform`",
        ));
    }
    if let BootstrapMethod::Flux(flux) = &s.bootstrap.method
        && !sim
        && !module_outputs_flux_manifests(s)
    {
        match flux.manifests.as_deref() {
            None => needs.push(need(
                Tool::Flux,
                "bootstrap flux on a real cluster without spec.bootstrap.flux.manifests: `flux install`",
            )),
            Some(m) if m.starts_with("https://") || m.starts_with("http://") => needs.push(need(
                Tool::Curl,
                "spec.bootstrap.flux.manifests is a URL",
            )),
            Some(_) => {}
        }
    }
    dedup(needs)
}

/// Whether the scenario's Terraform module declares the
/// `flux_manifests` output, which then installs Flux instead of the CLI.
fn module_outputs_flux_manifests(s: &Scenario) -> bool {
    let Some(tf) = s
        .cluster
        .terraform
        .as_ref()
        .filter(|_| s.cluster.provider == Provider::Terraform)
    else {
        return false;
    };
    let declares = |text: &str| {
        text.lines().any(|l| {
            let l = l.trim_start();
            l.strip_prefix("output")
                .map(str::trim_start)
                .is_some_and(|rest| rest.starts_with(&format!("\"{FLUX_MANIFESTS_OUTPUT}\"")))
        })
    };
    std::fs::read_dir(&tf.dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            e.path().extension().is_some_and(|x| x == "tf")
                && std::fs::read_to_string(e.path()).is_ok_and(|t| declares(&t))
        })
}

/// What a scenario needs, with what its source holds: for a local source
/// on the simulator, the Kustomizations with SOPS decryption, Terraform
/// objects and HelmReleases of the tree Flux would apply.
pub async fn for_scenario(s: &Scenario) -> Vec<Need> {
    let mut needs = from_scenario(s);
    if s.cluster.provider == Provider::Sim
        && let SourceLocation::Fixture(dir) = &s.source.location
        && dir.is_dir()
    {
        needs.extend(from_source(s, dir).await);
    }
    dedup(needs)
}

async fn from_source(s: &Scenario, dir: &Path) -> Vec<Need> {
    let tree = tree::scan(dir, &s.source.path, sync::NAME, &RenderOptions::default()).await;
    let mut kinds = BTreeSet::new();
    let mut decrypts = false;
    for (_, o) in tree.objects() {
        let m = &o.manifest;
        let api = m["apiVersion"].as_str().unwrap_or_default();
        let kind = m["kind"].as_str().unwrap_or_default();
        if kind == "Kustomization"
            && api.starts_with("kustomize.toolkit.fluxcd.io/")
            && m.pointer("/spec/decryption/provider")
                .and_then(Value::as_str)
                == Some("sops")
        {
            decrypts = true;
        }
        if api.starts_with("infra.contrib.fluxcd.io/") && kind == "Terraform" {
            kinds.insert("Terraform");
        }
        if api.starts_with("helm.toolkit.fluxcd.io/") && kind == "HelmRelease" {
            kinds.insert("HelmRelease");
        }
    }
    let mut needs = Vec::new();
    if decrypts {
        needs.push(need(
            Tool::Sops,
            "a Kustomization decrypts SOPS secrets: the emulated kustomize-controller runs `sops`",
        ));
        if s.bootstrap.secrets.iter().any(|k| k.key.ends_with(".asc")) {
            needs.push(need(Tool::Gpg, "a PGP key (*.asc) in bootstrap.secrets"));
        }
    }
    if kinds.contains("Terraform") {
        needs.push(need(
            Tool::Terraform,
            "the source has Terraform objects: the emulated Terraform controller runs `terraform`",
        ));
    }
    if kinds.contains("HelmRelease") {
        needs.push(need(
            Tool::Helm,
            "the source has HelmReleases: charts are rendered with `helm`",
        ));
    }
    needs
}

fn need(tool: Tool, why: &str) -> Need {
    Need {
        tool,
        why: why.to_owned(),
    }
}

/// One need per tool (the first reason kept), in [`Tool::ALL`] order.
fn dedup(mut needs: Vec<Need>) -> Vec<Need> {
    let mut seen = BTreeSet::new();
    needs.retain(|n| seen.insert(n.tool));
    needs.sort_by_key(|n| n.tool);
    needs
}

#[cfg(test)]
mod tests;
