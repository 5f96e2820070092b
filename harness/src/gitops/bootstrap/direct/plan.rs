//! What the direct reconciler applies: the source path rendered, with the
//! Flux Kustomizations of the same repository followed instead of applied.
//!
//! A repository laid out for Flux (`clusters/staging` holding
//! Kustomizations `infrastructure` and `apps` with `sourceRef:
//! {kind: GitRepository, name: flux-system}`) works with the direct method
//! unchanged: each such Kustomization's `spec.path` is rendered in its
//! place — dependencies (`dependsOn`) first, built as kustomize-controller
//! builds it (`targetNamespace`, `patches`, `images`, `components`,
//! `namePrefix`/`nameSuffix`, `commonMetadata`:
//! [`crate::gitops::render::fluxbuild`]) — as Flux would, recursively. Kustomizations of other sources are applied
//! as objects (and fail without Flux's CRDs, naming themselves).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use crate::gitops::apply::Manifest;
use crate::gitops::bootstrap::flux::sync;
use crate::gitops::render::RenderOptions;
use crate::gitops::render::fluxbuild::{self, BuildSpec};

/// The deepest nesting of Kustomizations followed.
const MAX_DEPTH: usize = 8;

/// One batch of the plan: the objects of one path, applied together.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// `./clusters/staging`, or `Kustomization/apps (./apps/podinfo)`.
    pub label: String,
    /// Its objects.
    pub manifests: Vec<Manifest>,
    /// How many Flux Kustomizations of this source the path rendered
    /// (followed, not applied, by the direct method; Flux applies them).
    pub followed: usize,
}

/// Objects a plan's units apply (the followed Kustomizations not counted).
pub fn object_count(units: &[Unit]) -> usize {
    units.iter().map(|u| u.manifests.len()).sum()
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
}

fn follows_this_source(m: &Manifest) -> bool {
    let o = &m.object;
    o["kind"] == "Kustomization"
        && s(o, "/apiVersion").is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"))
        && s(o, "/spec/sourceRef/kind").unwrap_or("GitRepository") == "GitRepository"
        && s(o, "/spec/sourceRef/name") == Some(sync::NAME)
}

/// Orders Kustomizations so that dependencies come first (by name; a cycle
/// or an unknown dependency keeps the original order).
fn by_dependencies(ks: Vec<Manifest>) -> Vec<Manifest> {
    let names: BTreeMap<String, usize> = ks
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((s(&k.object, "/metadata/name")?.to_owned(), i)))
        .collect();
    let mut done = BTreeSet::new();
    let mut order = Vec::new();
    fn visit(
        i: usize,
        ks: &[Manifest],
        names: &BTreeMap<String, usize>,
        done: &mut BTreeSet<usize>,
        path: &mut BTreeSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if done.contains(&i) || !path.insert(i) {
            return;
        }
        if let Some(deps) = ks[i]
            .object
            .pointer("/spec/dependsOn")
            .and_then(Value::as_array)
        {
            for d in deps {
                if let Some(&j) = d
                    .get("name")
                    .and_then(Value::as_str)
                    .and_then(|n| names.get(n))
                {
                    visit(j, ks, names, done, path, order);
                }
            }
        }
        path.remove(&i);
        if done.insert(i) {
            order.push(i);
        }
    }
    for i in 0..ks.len() {
        visit(i, &ks, &names, &mut done, &mut BTreeSet::new(), &mut order);
    }
    let mut slots: Vec<Option<Manifest>> = ks.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Renders `path` of the checkout at `root` into units (see the module
/// docs).
///
/// # Errors
/// The first rendering error, prefixed with the Kustomization it belongs
/// to.
pub async fn plan(root: &Path, path: &str, opts: &RenderOptions) -> Result<Vec<Unit>, String> {
    let mut units = Vec::new();
    let mut seen = BTreeSet::new();
    let label = if path.trim_start_matches("./").is_empty() {
        "./".to_owned()
    } else {
        format!("./{}", path.trim_start_matches("./"))
    };
    let spec = BuildSpec::default();
    expand(root, path, label, &spec, opts, 0, &mut seen, &mut units).await?;
    Ok(units)
}

#[allow(clippy::too_many_arguments)]
fn expand<'a>(
    root: &'a Path,
    path: &'a str,
    label: String,
    spec: &'a BuildSpec,
    opts: &'a RenderOptions,
    depth: usize,
    seen: &'a mut BTreeSet<String>,
    units: &'a mut Vec<Unit>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
    Box::pin(async move {
        let key = path
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        if depth > MAX_DEPTH || !seen.insert(key) {
            return Ok(());
        }
        let mut rendered = fluxbuild::build(root, path, spec, opts)
            .await
            .map_err(|e| format!("{label}: {}", crate::error_chain::one_line(&e)))?;
        if let Some(metadata) = &spec.common_metadata {
            fluxbuild::set_common_metadata(&mut rendered.objects, metadata);
        }
        let (ks, others): (Vec<Manifest>, Vec<Manifest>) = rendered
            .objects
            .into_iter()
            .map(Manifest::from)
            .partition(follows_this_source);
        units.push(Unit {
            label,
            manifests: others,
            followed: ks.len(),
        });
        for k in by_dependencies(ks) {
            let name = s(&k.object, "/metadata/name").unwrap_or("?").to_owned();
            let sub = s(&k.object, "/spec/path").unwrap_or("./").to_owned();
            let label = format!("Kustomization/{name} ({sub})");
            let spec =
                BuildSpec::from_kustomization(&k.object).map_err(|e| format!("{label}: {e}"))?;
            expand(root, &sub, label, &spec, opts, depth + 1, seen, units).await?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(name: &str, deps: &[&str]) -> Manifest {
        let deps: Vec<Value> = deps.iter().map(|d| json!({"name": d})).collect();
        Manifest::new(
            json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name}, "spec": {"dependsOn": deps, "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}}),
        )
    }

    #[test]
    fn dependencies_come_first() {
        let ordered = by_dependencies(vec![
            k("apps", &["infra"]),
            k("infra", &["crds"]),
            k("crds", &[]),
            k("lone", &[]),
        ]);
        let names: Vec<&str> = ordered
            .iter()
            .map(|m| m.object["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["crds", "infra", "apps", "lone"]);
        let cyclic = by_dependencies(vec![k("a", &["b"]), k("b", &["a"])]);
        assert_eq!(cyclic.len(), 2);
        assert!(follows_this_source(&k("x", &[])));
    }
}
