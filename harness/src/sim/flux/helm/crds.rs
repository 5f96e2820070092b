//! The CRDs of a chart's `crds/` folder by a HelmRelease's policy, as
//! helm-controller applies them itself (`internal/action/crds.go`): Helm
//! only creates missing CRDs on a first install and never touches them on
//! an upgrade, so `Create` on an upgrade and `CreateReplace` are the
//! controller's work. No policy deletes a CRD.

use std::path::Path;

use serde_json::Value;

use super::options::CrdPolicy;
use crate::sim::storage::store::{Gvr, ObjectRef, Store, WriteOptions};

/// The field manager of helm-controller's CRD writes.
const MANAGER: &str = "helm-controller";

fn crd_gvr() -> Gvr {
    Gvr::new("apiextensions.k8s.io", "v1", "customresourcedefinitions")
}

/// The CRDs of `chart_dir/crds` (`*.yaml`, `*.yml`, `*.json`, in name
/// order; every document of kind `CustomResourceDefinition`).
///
/// # Errors
/// A file that cannot be read or does not parse.
pub fn of_chart(chart_dir: &Path) -> Result<Vec<Value>, String> {
    let dir = chart_dir.join("crds");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let v: Value = serde::Deserialize::deserialize(doc)
                .map_err(|e| format!("{}: {e}", f.display()))?;
            if v.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition") {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Applies the chart's CRDs by `policy`: `Create` creates the missing
/// ones, `CreateReplace` also replaces the spec, labels and annotations
/// of those that exist. Returns what was done (`CustomResourceDefinition/x
/// created`).
///
/// # Errors
/// `failed to apply CustomResourceDefinitions: …`, as helm-controller
/// words it.
pub fn apply(store: &Store, chart_dir: &Path, policy: CrdPolicy) -> Result<Vec<String>, String> {
    if policy == CrdPolicy::Skip {
        return Ok(Vec::new());
    }
    let fail = |e: String| format!("failed to apply CustomResourceDefinitions: {e}");
    let opts = WriteOptions::manager(MANAGER);
    let mut done = Vec::new();
    for crd in of_chart(chart_dir).map_err(fail)? {
        let Some(name) = crd.pointer("/metadata/name").and_then(Value::as_str) else {
            return Err(fail("a CRD without metadata.name".into()));
        };
        let r = ObjectRef::cluster(crd_gvr(), name);
        if store.get(&r).is_err() {
            store
                .create(&crd_gvr(), None, crd.clone(), &opts)
                .map_err(|e| fail(e.to_string()))?;
            done.push(format!("CustomResourceDefinition/{name} created"));
            continue;
        }
        if policy == CrdPolicy::CreateReplace {
            store
                .mutate(&r, false, &opts, |live| {
                    live["spec"] = crd["spec"].clone();
                    for m in ["labels", "annotations"] {
                        if let Some(v) = crd["metadata"].get(m) {
                            live["metadata"][m] = v.clone();
                        }
                    }
                    Ok(())
                })
                .map_err(|e| fail(e.to_string()))?;
            done.push(format!("CustomResourceDefinition/{name} replaced"));
        }
    }
    Ok(done)
}
