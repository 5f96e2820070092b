//! Rendering a path of a source into Kubernetes objects, as Flux's
//! kustomize-controller builds a Kustomization's `spec.path`.
//!
//! - A folder with a `kustomization.yaml` (or `kustomization.yml`, or
//!   `Kustomization`) is built by real kustomize: `kubectl kustomize
//!   --load-restrictor=LoadRestrictionsNone <dir>` (Flux also lifts the load
//!   restriction). The objects come out in kustomize's order.
//! - Any other folder is read as Flux reads it: Flux generates a
//!   `kustomization.yaml` listing every `*.yaml`/`*.yml` file found by
//!   walking the folder in name order, with sub-folders that hold a
//!   kustomization file built by kustomize instead of walked. Files the
//!   source-controller leaves out of its artifacts by default are skipped
//!   (`.git/`, `.github/`, `.circleci/`, `.sops.yaml`, `.flux.yaml`,
//!   `.goreleaser.yml`, CI files such as `.gitlab-ci.yml`, images and
//!   archives), as are symbolic links to folders (Go's walk does not follow
//!   them). Other hidden folders are read, as Flux reads them. Multi-document
//!   files are split, empty documents skipped, and `kind: List` documents
//!   expanded into their items, as kustomize does. Objects come out in file
//!   order. (`.sourceignore` files and `GitRepository.spec.ignore` are the
//!   source-controller's: what they exclude is not in the artifact.)
//! - A Flux Kustomization's build fields (`targetNamespace`, `patches`,
//!   `images`, `components`, `namePrefix`/`nameSuffix`, `commonMetadata`)
//!   are laid over the path the way kustomize-controller does it by
//!   [`fluxbuild`].
//!
//! Every object carries its [`Provenance`]; every error names the file and
//! the document (with line:column when the YAML parser gives it). An object
//! defined twice is an error, as in kustomize.

mod error;
pub mod fluxbuild;
mod kustomize;
mod plain;
pub mod substitute;

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

pub use error::{Error, Result};

/// File names that make a folder a kustomization, in kustomize's order.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Where an object was defined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The file, relative to the source root. For objects built by kustomize,
    /// the kustomization file of the folder that was built.
    pub file: PathBuf,
    /// 0-based index of the document: in the file, or in kustomize's output.
    pub document: usize,
    /// 1-based line where the document starts in `file`, when known.
    pub line: Option<usize>,
    /// Whether the object is kustomize output (then `document` counts
    /// kustomize's output documents, not the file's).
    pub built: bool,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.built {
            write!(
                f,
                "{} (kustomize output, document {})",
                self.file.display(),
                self.document + 1
            )
        } else {
            write!(f, "{}, document {}", self.file.display(), self.document + 1)?;
            if let Some(line) = self.line {
                write!(f, " (line {line})")?;
            }
            Ok(())
        }
    }
}

/// A rendered Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    /// The object, as JSON (a mapping with `apiVersion`, `kind` and
    /// `metadata.name`, all non-empty strings).
    pub manifest: serde_json::Value,
    /// Where it was defined.
    pub source: Provenance,
}

impl Object {
    fn str_at(&self, ptr: &str) -> &str {
        self.manifest
            .pointer(ptr)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
    }

    /// `apiVersion`, e.g. `apps/v1`.
    pub fn api_version(&self) -> &str {
        self.str_at("/apiVersion")
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.str_at("/kind")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.str_at("/metadata/name")
    }

    /// `metadata.namespace`, when set.
    pub fn namespace(&self) -> Option<&str> {
        self.manifest
            .pointer("/metadata/namespace")
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The object's id in a Flux Kustomization inventory:
    /// `<namespace>_<name>_<group>_<kind>` (empty namespace for
    /// cluster-scoped or unset, empty group for core).
    pub fn inventory_id(&self) -> String {
        format!(
            "{}_{}_{}_{}",
            self.namespace().unwrap_or_default(),
            self.name(),
            self.group(),
            self.kind()
        )
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace() {
            Some(ns) => write!(f, "{}/{}/{}", self.kind(), ns, self.name()),
            None => write!(f, "{}/{}", self.kind(), self.name()),
        }
    }
}

/// How a path was rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The path holds a kustomization file, built by kustomize.
    Kustomize,
    /// Plain YAML files (sub-folders with a kustomization file built by
    /// kustomize).
    Plain,
}

/// The objects of a path.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// The path rendered, normalised and relative to the source root
    /// (empty for the root).
    pub path: PathBuf,
    /// How it was rendered.
    pub method: Method,
    /// The objects, in kustomize's order or in file order.
    pub objects: Vec<Object>,
}

/// Options of [`render_with`].
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// The kubectl program (default `kubectl` on `PATH`).
    pub kubectl: PathBuf,
    /// Timeout of one `kubectl kustomize` run.
    pub timeout: Duration,
    /// Where the other programs a build may need (`sops`) are found.
    pub tools: crate::process::Lookup,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            kubectl: PathBuf::from("kubectl"),
            timeout: Duration::from_secs(120),
            tools: crate::process::Lookup::default(),
        }
    }
}

/// Renders `path` (as in a Kustomization's `spec.path`: `./apps/podinfo`,
/// `apps/podinfo`, `""` or `./` for the root) of the source checked out at
/// `root`, with default options. See the module docs for the rules.
///
/// # Errors
/// See [`Error`]: a missing path, unreadable files, invalid YAML, a document
/// that is not an object, a kustomize failure, an object defined twice.
pub async fn render(root: &Path, path: &str) -> Result<Rendered> {
    render_with(root, path, &RenderOptions::default()).await
}

/// [`render`] with options.
///
/// # Errors
/// As [`render`].
pub async fn render_with(root: &Path, path: &str, opts: &RenderOptions) -> Result<Rendered> {
    let rel = locate(root, path).await?;
    let dir = root.join(&rel);
    let (method, objects) = match kustomization_file(&dir) {
        Some(file) => {
            let objects = kustomize::build(root, &rel, &rel.join(file), opts).await?;
            (Method::Kustomize, objects)
        }
        None => (Method::Plain, plain::render(root, &rel, opts).await?),
    };
    check_duplicates(&objects)?;
    Ok(Rendered {
        path: rel,
        method,
        objects,
    })
}

/// `path` normalised (see [`normalise`]), checked to be a folder of the
/// source at `root`.
async fn locate(root: &Path, path: &str) -> Result<PathBuf> {
    let rel = normalise(path)?;
    let dir = root.join(&rel);
    match tokio::fs::metadata(&dir).await {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(Error::NotADirectory {
                path: path.to_owned(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::PathNotFound {
                path: path.to_owned(),
                root: root.to_owned(),
            });
        }
        Err(source) => return Err(Error::Read { path: rel, source }),
    }
    Ok(rel)
}

/// The kustomization file of `dir`, if it has one.
pub fn kustomization_file(dir: &Path) -> Option<&'static str> {
    KUSTOMIZATION_FILES
        .into_iter()
        .find(|f| dir.join(f).is_file())
}

/// `./a/../b/` → `b`; fails when the path climbs above the root. A leading
/// `/` is relative to the root, as in Flux.
fn normalise(path: &str) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(Error::OutsideSource {
                        path: path.to_owned(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Checks a document is an object and turns it into one (or several, for a
/// `List`).
pub(crate) fn objects_of(
    value: serde_json::Value,
    source: Provenance,
    out: &mut Vec<Object>,
) -> Result<()> {
    let not = |problem: String| Error::NotAnObject {
        at: source.clone(),
        problem,
    };
    let serde_json::Value::Object(map) = &value else {
        return Err(not(format!("found {}, not a mapping", json_kind(&value))));
    };
    let field = |name: &str| {
        map.get(name)
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let Some(kind) = field("kind") else {
        return Err(not("missing `kind`".into()));
    };
    if field("apiVersion").is_none() {
        return Err(not(format!("`{kind}` has no `apiVersion`")));
    }
    // kustomize expands `List` (and `*List`) documents into their items.
    if let (true, Some(serde_json::Value::Array(items))) =
        (kind.ends_with("List"), map.get("items"))
    {
        for item in items.clone() {
            objects_of(item, source.clone(), out)?;
        }
        return Ok(());
    }
    let named = value
        .pointer("/metadata/name")
        .and_then(serde_json::Value::as_str)
        .is_some_and(|n| !n.is_empty());
    if !named {
        return Err(not(format!("`{kind}` has no `metadata.name`")));
    }
    out.push(Object {
        manifest: value,
        source,
    });
    Ok(())
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a sequence",
        serde_json::Value::Object(_) => "a mapping",
    }
}

fn check_duplicates(objects: &[Object]) -> Result<()> {
    let mut seen = std::collections::HashMap::with_capacity(objects.len());
    for (i, o) in objects.iter().enumerate() {
        let key = (o.group(), o.kind(), o.namespace(), o.name());
        if let Some(&first) = seen.get(&key) {
            let first: &Object = &objects[first];
            return Err(Error::Duplicate {
                id: o.to_string(),
                first: first.source.clone(),
                second: o.source.clone(),
            });
        }
        seen.insert(key, i);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prov() -> Provenance {
        Provenance {
            file: "a.yaml".into(),
            document: 1,
            line: Some(7),
            built: false,
        }
    }

    #[test]
    fn normalises_flux_paths() {
        assert_eq!(
            normalise("./apps/podinfo").unwrap(),
            PathBuf::from("apps/podinfo")
        );
        assert_eq!(normalise("./").unwrap(), PathBuf::new());
        assert_eq!(normalise("").unwrap(), PathBuf::new());
        assert_eq!(
            normalise("/apps/../infra/").unwrap(),
            PathBuf::from("infra")
        );
        assert!(matches!(
            normalise("../x"),
            Err(Error::OutsideSource { .. })
        ));
    }

    #[test]
    fn objects_need_kind_api_version_and_name() {
        let mut out = Vec::new();
        let err = objects_of(
            json!({"apiVersion": "v1", "metadata": {"name": "x"}}),
            prov(),
            &mut out,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "a.yaml, document 2 (line 7): missing `kind`; every manifest needs `apiVersion`, `kind` and `metadata.name`"
        );
        let err = objects_of(
            json!({"kind": "ConfigMap", "metadata": {"name": "x"}}),
            prov(),
            &mut out,
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("`ConfigMap` has no `apiVersion`"),
            "{err}"
        );
        let err = objects_of(
            json!({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {}}),
            prov(),
            &mut out,
        )
        .unwrap_err();
        assert!(err.to_string().contains("no `metadata.name`"), "{err}");
        let err = objects_of(json!(["a"]), prov(), &mut out).unwrap_err();
        assert!(
            err.to_string().contains("found a sequence, not a mapping"),
            "{err}"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn lists_are_expanded() {
        let mut out = Vec::new();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}},
            {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b", "namespace": "ns"}},
        ]});
        objects_of(list, prov(), &mut out).unwrap();
        let names: Vec<String> = out.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["ConfigMap/a", "Secret/ns/b"]);
        assert_eq!(out[1].inventory_id(), "ns_b__Secret");
    }

    #[test]
    fn inventory_id_has_group() {
        let o = Object {
            manifest: json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "podinfo", "namespace": "default"}}),
            source: prov(),
        };
        assert_eq!(o.inventory_id(), "default_podinfo_apps_Deployment");
    }

    #[test]
    fn duplicates_name_both_places() {
        let o = |doc| Object {
            manifest: json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "n"}}),
            source: Provenance {
                document: doc,
                ..prov()
            },
        };
        let err = check_duplicates(&[o(0), o(3)]).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("ConfigMap/n/x is defined twice"), "{msg}");
        assert!(
            msg.contains("document 1") && msg.contains("document 4"),
            "{msg}"
        );
    }
}
