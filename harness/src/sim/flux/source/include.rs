//! GitRepository `spec.include`: the artifact of another GitRepository of
//! the same namespace (or a folder of it, `fromPath`) copied into this
//! one's at `toPath` (default: the included repository's name), before the
//! ignore rules run, as source-controller does. The included artifacts
//! are recorded in `status.includedArtifacts`; an including repository is
//! rebuilt when one of them moves.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};

use super::gvr;
use crate::sim::flux::artifacts::Artifacts;
use crate::sim::storage::store::{Event, EventType, ObjectRef, Store};

/// Reason of a missing included repository.
pub const NOT_FOUND: &str = "NotFound";
/// Reason of an included repository without an artifact yet.
pub const NO_ARTIFACT: &str = "NoArtifact";
/// Reason of an include that could not be copied.
pub const COPY_FAILURE: &str = "CopyFailure";

/// One `spec.include` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// `repository.name`.
    pub name: String,
    /// `fromPath` (empty: the whole artifact).
    pub from_path: String,
    /// `toPath` (default: the repository's name).
    pub to_path: String,
}

/// Reads `spec.include`.
///
/// # Errors
/// A message naming the entry without `repository.name`.
pub fn read(obj: &Value) -> Result<Vec<Include>, String> {
    let Some(list) = obj.pointer("/spec/include").and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let s = |p: &str| e.pointer(p).and_then(Value::as_str).unwrap_or("");
            let name = s("/repository/name");
            if name.is_empty() {
                return Err(format!("spec.include[{i}].repository.name is required"));
            }
            let to = s("/toPath");
            Ok(Include {
                name: name.to_owned(),
                from_path: s("/fromPath").to_owned(),
                to_path: if to.is_empty() { name } else { to }.to_owned(),
            })
        })
        .collect()
}

/// A path inside `root`, or None when `rel` leaves it (Flux joins
/// securely).
fn inside(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut out = root.to_owned();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir => {
                if out == root {
                    return None;
                }
                out.pop();
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_dir(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Copies every include into the artifact tree `tree`; returns the
/// `status.includedArtifacts` entries, in order.
///
/// # Errors
/// (reason, Flux's message): a repository that does not exist
/// ([`NOT_FOUND`]), has no artifact yet ([`NO_ARTIFACT`]), or whose
/// content could not be copied ([`COPY_FAILURE`]).
pub fn copy_all(
    store: &Store,
    artifacts: &Artifacts,
    namespace: &str,
    includes: &[Include],
    tree: &Path,
) -> Result<Vec<Value>, (&'static str, String)> {
    let mut recorded = Vec::with_capacity(includes.len());
    for inc in includes {
        let dep = store
            .get(&ObjectRef::namespaced(gvr(), namespace, &inc.name))
            .map_err(|e| {
                let msg = format!(
                    "could not get resource for include '{}': {}",
                    inc.name, e.message
                );
                (NOT_FOUND, msg)
            })?;
        let artifact = dep.pointer("/status/artifact").cloned();
        let src_tree = artifact
            .as_ref()
            .and_then(|a| a.get("path"))
            .and_then(Value::as_str)
            .and_then(|p| artifacts.tree(p))
            .filter(|t| t.is_dir());
        let (Some(artifact), Some(src_tree)) = (artifact, src_tree) else {
            let msg = format!("no artifact available for include '{}'", inc.name);
            return Err((NO_ARTIFACT, msg));
        };
        let copy_failed = |why: String| {
            let msg = format!(
                "failed to copy '{}' include from {} to {}: {why}",
                inc.name, inc.from_path, inc.to_path
            );
            (COPY_FAILURE, msg)
        };
        let from = inside(&src_tree, &inc.from_path)
            .ok_or_else(|| copy_failed("fromPath leaves the artifact".into()))?;
        let to = inside(tree, &inc.to_path)
            .filter(|t| t != tree)
            .ok_or_else(|| copy_failed("toPath must be a folder inside the artifact".into()))?;
        let _ = fs::remove_dir_all(&to);
        copy_dir(&from, &to).map_err(|e| copy_failed(e.to_string()))?;
        recorded.push(artifact);
    }
    Ok(recorded)
}

/// The GitRepositories to rebuild after `ev`: those including a
/// repository whose artifact moved.
pub fn includers(ev: &Event, all: impl Fn() -> Vec<Arc<Value>>) -> Vec<(String, String)> {
    if ev.resource != gvr().group_resource() || ev.kind == EventType::Deleted {
        return Vec::new();
    }
    let revision = |o: &Value| o.pointer("/status/artifact/revision").cloned();
    if ev.old.as_deref().and_then(revision) == revision(&ev.object) {
        return Vec::new();
    }
    let s = |o: &Value, p: &str| o.pointer(p).and_then(Value::as_str).map(str::to_owned);
    let (Some(ns), Some(name)) = (
        s(&ev.object, "/metadata/namespace"),
        s(&ev.object, "/metadata/name"),
    ) else {
        return Vec::new();
    };
    all()
        .iter()
        .filter(|o| s(o, "/metadata/namespace").as_deref() == Some(&ns))
        .filter(|o| read(o).is_ok_and(|incs| incs.iter().any(|i| i.name == name)))
        .filter_map(|o| Some((s(o, "/metadata/namespace")?, s(o, "/metadata/name")?)))
        .collect()
}

/// What `status.observedInclude` records of the spec, to tell when the
/// artifact must be rebuilt.
pub fn observed(obj: &Value) -> Value {
    obj.pointer("/spec/include").cloned().unwrap_or(json!(null))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_includes_with_flux_defaults() {
        let obj = json!({"spec": {"include": [
            {"repository": {"name": "shared"}},
            {"repository": {"name": "charts"}, "fromPath": "charts/app", "toPath": "vendor/app"}]}});
        let incs = read(&obj).unwrap();
        assert_eq!(incs[0].to_path, "shared");
        assert_eq!(incs[0].from_path, "");
        assert_eq!(incs[1].to_path, "vendor/app");
        let bad = json!({"spec": {"include": [{"toPath": "x"}]}});
        assert_eq!(
            read(&bad).unwrap_err(),
            "spec.include[0].repository.name is required"
        );
    }

    #[test]
    fn paths_stay_inside() {
        let root = Path::new("/a/b");
        assert_eq!(inside(root, "c/./d"), Some(PathBuf::from("/a/b/c/d")));
        assert_eq!(inside(root, "c/../../x"), None);
        assert_eq!(inside(root, ""), Some(PathBuf::from("/a/b")));
    }
}
