//! `spec.cluster` → [`Cluster`]: the provider (the simulator by default)
//! and every provider's settings with their defaults. Blocks for providers
//! other than the one chosen are converted too: a run may switch to them.

use std::time::Duration;

use super::Cx;
use crate::scenario::diagnostic::Collector;
use crate::scenario::file;
use crate::scenario::model::{
    Cluster, ExistingSettings, KindSettings, Provider, SimProfile, SimSettings, TerraformSettings,
};

impl Cx<'_> {
    pub(super) fn cluster(&self, c: &mut Collector, spec: Option<&file::ClusterSpec>) -> Cluster {
        let provider = spec.and_then(|s| s.provider).unwrap_or(Provider::Sim);
        let sim = spec.and_then(|s| s.sim.as_ref());
        let nodes = sim.and_then(|s| s.nodes).unwrap_or(3);
        if nodes < 1 {
            c.field(
                "spec.cluster.sim.nodes",
                "must be at least 1 (the control plane)",
            );
        }
        let kind = spec.and_then(|s| s.kind.as_ref());
        let terraform = spec
            .and_then(|s| s.terraform.as_ref())
            .map(|t| self.terraform(c, t));
        let existing = spec
            .and_then(|s| s.existing.as_ref())
            .map(|e| self.existing(c, e));
        Cluster {
            provider,
            sim: SimSettings {
                profile: sim.and_then(|s| s.profile).unwrap_or(SimProfile::Kind),
                nodes,
                seed: sim.and_then(|s| s.seed).unwrap_or(1),
                images: self.images(c, sim.map_or(&[][..], |s| &s.images)),
                skip_verify: sim.is_some_and(|s| s.skip_verify),
            },
            // After the terraform and existing blocks: the order of the
            // diagnostics is the order of the golden files.
            kind: KindSettings {
                config: kind
                    .and_then(|k| k.config.as_deref())
                    .map(|p| self.existing_file(c, "spec.cluster.kind.config", p)),
                image: kind.and_then(|k| k.image.clone()),
                wait: kind
                    .and_then(|k| k.wait)
                    .map_or(Duration::from_secs(300), |d| d.0),
            },
            terraform,
            existing,
        }
    }

    /// `sim.images`: non-empty references, without spaces.
    fn images(&self, c: &mut Collector, images: &[String]) -> Vec<String> {
        for (i, image) in images.iter().enumerate() {
            if image.trim().is_empty() || image.chars().any(char::is_whitespace) {
                c.field_help(
                    format!("spec.cluster.sim.images[{i}]"),
                    format!("{image:?} is not an image reference"),
                    "write a reference such as ghcr.io/org/app:1.2.3",
                );
            }
        }
        images.to_vec()
    }

    fn terraform(&self, c: &mut Collector, t: &file::TerraformBlock) -> TerraformSettings {
        let dir = self.existing_dir(c, "spec.cluster.terraform.dir", &t.dir);
        TerraformSettings {
            dir,
            vars: t.vars.clone(),
            kubeconfig_output: t
                .kubeconfig_output
                .clone()
                .unwrap_or_else(|| "kubeconfig".into()),
            workspace: t.workspace.clone(),
            timeout: t.timeout.map_or(Duration::from_secs(30 * 60), |d| d.0),
        }
    }

    fn existing(&self, c: &mut Collector, e: &file::ExistingBlock) -> ExistingSettings {
        if e.allow_contexts.is_empty() {
            c.field_help(
                "spec.cluster.existing.allowContexts",
                "is empty, so no context may be used",
                "list the kubeconfig context names gameday may touch",
            );
        }
        ExistingSettings {
            kubeconfig: e.kubeconfig.as_deref().map(|k| self.resolve(k)),
            context: e.context.clone(),
            allow_contexts: e.allow_contexts.clone(),
            allow_namespaces: e.allow_namespaces.clone(),
        }
    }
}
