//! The source tree as Flux would apply it: a path of a checkout rendered,
//! with the Flux Kustomizations of the same source followed into their
//! `spec.path`, recursively, and every object given with where it came
//! from (its file, and the Kustomization that applies it).
//!
//! A repository laid out for Flux (`clusters/staging` holding
//! Kustomizations `infrastructure` and `apps` with `sourceRef: {kind:
//! GitRepository, name: flux-system}`) scans into one [`Unit`] per path:
//! the root, then each followed Kustomization's path — dependencies
//! (`dependsOn`) first — with its `targetNamespace`. Kustomizations of
//! other sources are objects like any other: the scan does not fetch
//! anything. A path that does not render is a unit with its error; the
//! rest of the tree is still scanned (the caller decides whether an error
//! is fatal: the direct reconciler stops at it, a preflight lists it).
//!
//! Used by the direct reconciler (what to apply) and by the simulator's
//! coverage preflight (what a real cluster would reconcile).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use serde_json::Value;

use crate::gitops::render::fluxbuild::{self, BuildSpec};
use crate::gitops::render::{self, Object, RenderOptions};

/// The deepest nesting of Kustomizations followed.
pub const MAX_DEPTH: usize = 8;

/// The Flux Kustomization that applies a unit.
#[derive(Debug, Clone, PartialEq)]
pub struct AppliedBy {
    /// Its namespace (may be empty when the source leaves it out).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Where it is defined.
    pub source: render::Provenance,
}

impl fmt::Display for AppliedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "Kustomization/{}", self.name)
        } else {
            write!(f, "Kustomization/{}/{}", self.namespace, self.name)
        }
    }
}

/// One path of the tree: the objects that are applied together.
#[derive(Debug)]
pub struct Unit {
    /// `./clusters/staging`, or `Kustomization/apps (./apps/podinfo)`.
    pub label: String,
    /// The path, relative to the checkout (`./apps/podinfo`).
    pub path: String,
    /// The Kustomization that applies it (None for the root path).
    pub applied_by: Option<AppliedBy>,
    /// The Kustomization's `targetNamespace`.
    pub target_namespace: Option<String>,
    /// What the path renders to, Kustomizations included (empty when it
    /// does not render), built as kustomize-controller builds it with the
    /// Kustomization's build fields ([`fluxbuild`]).
    pub objects: Vec<Object>,
    /// Why the path does not render, on one line.
    pub error: Option<String>,
}

/// The scanned tree: units in the order Flux would apply them.
#[derive(Debug, Default)]
pub struct Tree {
    /// Every unit.
    pub units: Vec<Unit>,
}

impl Tree {
    /// Every object with the unit it belongs to.
    pub fn objects(&self) -> impl Iterator<Item = (&Unit, &Object)> {
        self.units
            .iter()
            .flat_map(|u| u.objects.iter().map(move |o| (u, o)))
    }

    /// Every container image the objects reference (`image` of the
    /// `containers`, `initContainers` and `ephemeralContainers` of any
    /// pod spec or template, in any kind), as written.
    pub fn images(&self) -> BTreeSet<String> {
        fn walk(v: &Value, out: &mut BTreeSet<String>) {
            match v {
                Value::Object(m) => {
                    for (k, child) in m {
                        if matches!(
                            k.as_str(),
                            "containers" | "initContainers" | "ephemeralContainers"
                        ) && let Some(list) = child.as_array()
                        {
                            out.extend(
                                list.iter()
                                    .filter_map(|c| c.get("image")?.as_str())
                                    .filter(|i| !i.is_empty())
                                    .map(str::to_owned),
                            );
                        }
                        walk(child, out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                _ => {}
            }
        }
        let mut out = BTreeSet::new();
        for (_, o) in self.objects() {
            walk(&o.manifest, &mut out);
        }
        out
    }

    /// The units that did not render.
    pub fn errors(&self) -> impl Iterator<Item = (&Unit, &String)> {
        self.units
            .iter()
            .filter_map(|u| u.error.as_ref().map(|e| (u, e)))
    }
}

fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .filter(|x| !x.is_empty())
}

/// Whether `object` is a Flux Kustomization of the source named `source`
/// — a `GitRepository` (the default kind of `sourceRef`), or an
/// `OCIRepository`, the sync source of a fleet synced from an OCI artifact
/// (whose nested Kustomizations say `{kind: OCIRepository, name:
/// flux-system}`): the scan follows it into its path.
pub fn follows(object: &Value, source: &str) -> bool {
    object["kind"] == "Kustomization"
        && s(object, "/apiVersion").is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"))
        && matches!(
            s(object, "/spec/sourceRef/kind").unwrap_or("GitRepository"),
            "GitRepository" | "OCIRepository"
        )
        && s(object, "/spec/sourceRef/name") == Some(source)
}

/// Orders Kustomizations so that dependencies come first (by name; a cycle
/// or an unknown dependency keeps the original order).
pub fn by_dependencies<T>(ks: Vec<T>, object: impl Fn(&T) -> &Value) -> Vec<T> {
    let names: BTreeMap<String, usize> = ks
        .iter()
        .enumerate()
        .filter_map(|(i, k)| Some((s(object(k), "/metadata/name")?.to_owned(), i)))
        .collect();
    let deps: Vec<Vec<usize>> = ks
        .iter()
        .map(|k| {
            object(k)
                .pointer("/spec/dependsOn")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| names.get(d.get("name")?.as_str()?).copied())
                .collect()
        })
        .collect();
    fn visit(
        i: usize,
        deps: &[Vec<usize>],
        done: &mut BTreeSet<usize>,
        path: &mut BTreeSet<usize>,
        order: &mut Vec<usize>,
    ) {
        if done.contains(&i) || !path.insert(i) {
            return;
        }
        for &j in &deps[i] {
            visit(j, deps, done, path, order);
        }
        path.remove(&i);
        if done.insert(i) {
            order.push(i);
        }
    }
    let mut done = BTreeSet::new();
    let mut order = Vec::new();
    for i in 0..ks.len() {
        visit(i, &deps, &mut done, &mut BTreeSet::new(), &mut order);
    }
    let mut slots: Vec<Option<T>> = ks.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// `./path` (`./` for the root).
fn dot_path(path: &str) -> String {
    let p = path.trim_start_matches("./").trim_end_matches('/');
    if p.is_empty() || p == "." {
        "./".to_owned()
    } else {
        format!("./{p}")
    }
}

/// A path waiting to be scanned.
struct Pending {
    label: String,
    /// As written (in the scan's argument or a `spec.path`).
    written: String,
    applied_by: Option<AppliedBy>,
    /// The Kustomization's build fields, or why they do not parse.
    spec: Result<BuildSpec, String>,
    depth: usize,
}

/// The Kustomizations of `objects` that the scan follows, as pending
/// paths in apply order.
fn children(objects: &[Object], source: &str, depth: usize) -> Vec<Pending> {
    let followed: Vec<&Object> = objects
        .iter()
        .filter(|o| follows(&o.manifest, source))
        .collect();
    by_dependencies(followed, |o| &o.manifest)
        .into_iter()
        .map(|k| {
            let written = s(&k.manifest, "/spec/path").unwrap_or("./").to_owned();
            Pending {
                label: format!("Kustomization/{} ({})", k.name(), dot_path(&written)),
                written,
                applied_by: Some(AppliedBy {
                    namespace: k.namespace().unwrap_or_default().to_owned(),
                    name: k.name().to_owned(),
                    source: k.source.clone(),
                }),
                spec: BuildSpec::from_kustomization(&k.manifest),
                depth: depth + 1,
            }
        })
        .collect()
}

/// Builds one path as kustomize-controller would with `spec` (its
/// `commonMetadata` included), the error on one line.
async fn build(
    root: &Path,
    path: &str,
    spec: &Result<BuildSpec, String>,
    opts: &RenderOptions,
) -> Result<Vec<Object>, String> {
    let spec = spec.as_ref().map_err(Clone::clone)?;
    let mut rendered = fluxbuild::build(root, path, spec, opts)
        .await
        .map_err(|e| crate::error_chain::one_line(&e))?;
    if let Some(metadata) = &spec.common_metadata {
        fluxbuild::set_common_metadata(&mut rendered.objects, metadata);
    }
    Ok(rendered.objects)
}

/// Scans `path` of the checkout at `root`, following the Kustomizations of
/// the source named `source` (see the module docs). Never fails: a path
/// that does not render is a unit with its error.
pub async fn scan(root: &Path, path: &str, source: &str, opts: &RenderOptions) -> Tree {
    let mut tree = Tree::default();
    let mut seen = BTreeSet::new();
    let mut queue = vec![Pending {
        label: dot_path(path),
        written: path.to_owned(),
        applied_by: None,
        spec: Ok(BuildSpec::default()),
        depth: 0,
    }];
    // Depth-first in apply order: a unit's Kustomizations are scanned
    // right after it, before its siblings.
    while let Some(p) = queue.pop() {
        let path = dot_path(&p.written);
        let key = path.trim_start_matches("./").to_owned();
        if p.depth > MAX_DEPTH || !seen.insert(key) {
            continue;
        }
        // Rendered as written: errors quote the path the user wrote.
        let (objects, error) = match build(root, &p.written, &p.spec, opts).await {
            Ok(objects) => (objects, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let target_namespace = p
            .spec
            .as_ref()
            .ok()
            .and_then(|s| s.target_namespace.clone());
        queue.extend(children(&objects, source, p.depth).into_iter().rev());
        tree.units.push(Unit {
            label: p.label,
            path,
            applied_by: p.applied_by,
            target_namespace,
            objects,
            error,
        });
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn k(name: &str, deps: &[&str]) -> Value {
        let deps: Vec<Value> = deps.iter().map(|d| json!({"name": d})).collect();
        json!({"apiVersion": "kustomize.toolkit.fluxcd.io/v1", "kind": "Kustomization",
            "metadata": {"name": name}, "spec": {"dependsOn": deps, "sourceRef": {"kind": "GitRepository", "name": "flux-system"}}})
    }

    #[test]
    fn dependencies_come_first() {
        let ordered = by_dependencies(
            vec![
                k("apps", &["infra"]),
                k("infra", &["crds"]),
                k("crds", &[]),
                k("lone", &[]),
            ],
            |v| v,
        );
        let names: Vec<&str> = ordered
            .iter()
            .map(|m| m["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["crds", "infra", "apps", "lone"]);
        let cyclic = by_dependencies(vec![k("a", &["b"]), k("b", &["a"])], |v| v);
        assert_eq!(cyclic.len(), 2);
        assert!(follows(&k("x", &[]), "flux-system"));
        assert!(!follows(&k("x", &[]), "other"));
        let mut oci = k("x", &[]);
        oci["spec"]["sourceRef"]["kind"] = json!("OCIRepository");
        assert!(follows(&oci, "flux-system"), "an artifact-synced fleet");
        oci["spec"]["sourceRef"]["kind"] = json!("Bucket");
        assert!(!follows(&oci, "flux-system"));
    }

    fn write(root: &Path, file: &str, text: &str) {
        let p = root.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    #[tokio::test]
    async fn follows_kustomizations_and_keeps_going_past_a_broken_path() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            root,
            "clusters/dev/apps.yaml",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\nspec:\n  path: ./apps\n  dependsOn: [{name: infra}]\n  targetNamespace: web\n  sourceRef: {kind: GitRepository, name: flux-system}\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: infra, namespace: flux-system}\nspec:\n  path: ./infra\n  sourceRef: {kind: GitRepository, name: flux-system}\n",
        );
        write(
            root,
            "apps/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
        );
        write(root, "infra/bad.yaml", "kind: [unclosed\n");
        let tree = scan(
            root,
            "clusters/dev",
            "flux-system",
            &RenderOptions::default(),
        )
        .await;
        let labels: Vec<&str> = tree.units.iter().map(|u| u.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "./clusters/dev",
                "Kustomization/infra (./infra)",
                "Kustomization/apps (./apps)"
            ]
        );
        assert_eq!(tree.errors().count(), 1);
        assert!(tree.units[1].error.is_some());
        let apps = &tree.units[2];
        assert_eq!(apps.target_namespace.as_deref(), Some("web"));
        let by = apps.applied_by.as_ref().unwrap();
        assert_eq!(by.to_string(), "Kustomization/flux-system/apps");
        assert_eq!(
            by.source.file,
            std::path::PathBuf::from("clusters/dev/apps.yaml")
        );
        assert!(tree.images().is_empty());
        write(
            root,
            "apps/job.yaml",
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: backup}\nspec:\n  schedule: '@daily'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          initContainers: [{name: i, image: busybox:1.36}]\n          containers: [{name: c, image: ghcr.io/acme/backup:2.1}]\n",
        );
        let tree = scan(
            root,
            "clusters/dev",
            "flux-system",
            &RenderOptions::default(),
        )
        .await;
        let images: Vec<String> = tree.images().into_iter().collect();
        assert_eq!(images, ["busybox:1.36", "ghcr.io/acme/backup:2.1"]);
        let (unit, cm) = tree
            .objects()
            .find(|(_, o)| o.kind() == "ConfigMap")
            .unwrap();
        assert_eq!(unit.path, "./apps");
        // Built with its targetNamespace laid over it, as Flux builds it:
        // the object comes out of the generated kustomization.
        assert_eq!(cm.manifest["metadata"]["namespace"], "web");
        assert_eq!(
            cm.source.file,
            std::path::PathBuf::from("apps/kustomization.yaml")
        );
    }
}
