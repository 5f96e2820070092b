//! Custom resources need their CRD first. After a disaster the cluster is
//! empty: a CRD that only a person installed is gone, and one applied by a
//! Kustomization that the custom resource's Kustomization does not depend
//! on may come after it (the apply fails until a retry).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{Ctx, Finding, Rule, Severity, is_flux};
use crate::gitops::render::Object;
use crate::gitops::tree::Unit;

/// API groups every Kubernetes API server serves.
const BUILT_IN: [&str; 21] = [
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "apiextensions.k8s.io",
    "admissionregistration.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "node.k8s.io",
    "certificates.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "apiregistration.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "resource.k8s.io",
];

/// Whether the group is served without a CRD from Git: Kubernetes' own,
/// or Flux's (installed by the bootstrap itself).
fn served(group: &str) -> bool {
    BUILT_IN.contains(&group) || group.ends_with(".toolkit.fluxcd.io")
}

type KsKey = (String, String);

/// Each Kustomization's `dependsOn`, transitively.
fn depends_on(ctx: &Ctx<'_>) -> BTreeMap<KsKey, BTreeSet<KsKey>> {
    let direct: BTreeMap<KsKey, Vec<KsKey>> = ctx
        .tree
        .objects()
        .map(|(_, o)| o)
        .filter(|o| o.kind() == "Kustomization" && is_flux(o, "kustomize"))
        .map(|o| {
            let ns = o.namespace().unwrap_or_default().to_owned();
            let deps = o
                .manifest
                .pointer("/spec/dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| {
                    let name = d.get("name")?.as_str()?.to_owned();
                    let dns = d.get("namespace").and_then(Value::as_str).unwrap_or(&ns);
                    Some((dns.to_owned(), name))
                })
                .collect();
            ((ns, o.name().to_owned()), deps)
        })
        .collect();
    direct
        .keys()
        .map(|k| {
            let mut seen = BTreeSet::new();
            let mut stack: Vec<&KsKey> = direct[k].iter().collect();
            while let Some(d) = stack.pop() {
                if seen.insert(d.clone()) {
                    stack.extend(direct.get(d).into_iter().flatten());
                }
            }
            (k.clone(), seen)
        })
        .collect()
}

fn ks_key(unit: &Unit) -> Option<KsKey> {
    unit.applied_by
        .as_ref()
        .map(|b| (b.namespace.clone(), b.name.clone()))
}

pub(super) fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    // (group, kind) → the unit applying its CRD.
    let mut crds: BTreeMap<(String, String), &Unit> = BTreeMap::new();
    for (unit, o) in ctx.tree.objects() {
        if o.kind() == "CustomResourceDefinition" && o.group() == "apiextensions.k8s.io" {
            let g = o.manifest.pointer("/spec/group").and_then(Value::as_str);
            let k = o
                .manifest
                .pointer("/spec/names/kind")
                .and_then(Value::as_str);
            if let (Some(g), Some(k)) = (g, k) {
                crds.entry((g.to_owned(), k.to_owned())).or_insert(unit);
            }
        }
    }
    let helm = ctx.tree.objects().any(|(_, o)| is_flux(o, "helm"));
    let deps = depends_on(ctx);
    // One finding per kind and unit: the first object, and how many.
    let mut groups: BTreeMap<(String, String, String), (&Unit, &Object, usize)> = BTreeMap::new();
    for (unit, o) in ctx.tree.objects() {
        if served(o.group()) {
            continue;
        }
        groups
            .entry((o.group().to_owned(), o.kind().to_owned(), unit.path.clone()))
            .or_insert((unit, o, 0))
            .2 += 1;
    }
    for ((group, kind, _), (unit, o, n)) in groups {
        let what = if n == 1 {
            o.to_string()
        } else {
            format!("{o} (and {} more {kind})", n - 1)
        };
        let Some(crd_unit) = crds.get(&(group.clone(), kind.clone())) else {
            let (severity, because) = if helm {
                (
                    Severity::Warning,
                    " (the lint does not render Helm charts: if a HelmRelease installs it, make this Kustomization depend on the one applying that HelmRelease)",
                )
            } else {
                (Severity::Error, "")
            };
            out.push(ctx.finding(
                Rule::CrdMissing,
                severity,
                (unit, o),
                Some("kind:"),
                format!(
                    "{what} is a {kind}.{group}, whose CRD comes from nowhere in Git{because}: a new cluster does not know the kind and the apply fails"
                ),
                format!(
                    "add the CRD of {kind}.{group} (or the controller's manifests or HelmRelease) to Git, in a Kustomization this one `dependsOn`"
                ),
            ));
            continue;
        };
        if crd_unit.path == unit.path || crd_unit.applied_by.is_none() {
            // Same apply (Flux applies CRDs first), or the root sync
            // applies the CRD before any Kustomization it creates.
            continue;
        }
        let crd_ks = ks_key(crd_unit);
        let ordered = ks_key(unit)
            .and_then(|k| deps.get(&k))
            .is_some_and(|d| crd_ks.as_ref().is_some_and(|c| d.contains(c)));
        if ordered {
            continue;
        }
        let crd_by = crd_unit
            .applied_by
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let this = unit
            .applied_by
            .as_ref()
            .map_or_else(|| "the sync Kustomization".to_owned(), ToString::to_string);
        out.push(ctx.finding(
            Rule::CrdNotDependedOn,
            Severity::Warning,
            (unit, o),
            Some("kind:"),
            format!(
                "{what} is applied by {this}, but its CRD by {crd_by}, which {this} does not depend on: on a rebuild it may be applied before its CRD exists and fail until a retry, slowing the recovery"
            ),
            if unit.applied_by.is_some() {
                format!(
                    "add `dependsOn: [{{name: {}}}]` to {this}",
                    crd_by.rsplit('/').next().unwrap_or_default()
                )
            } else {
                format!("move it into a Kustomization that `dependsOn` {crd_by}")
            },
        ));
    }
}
