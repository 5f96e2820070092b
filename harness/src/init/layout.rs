//! Recognising a repository's layout, to know which path Flux syncs.
//!
//! - **Flux**: `clusters/<name>/` folders holding Flux Kustomizations
//!   (what `flux bootstrap --path=clusters/<name>` writes, with its
//!   `flux-system/` sync). The path is one cluster's folder (`staging`
//!   first when there is one, else the first by name); the others are
//!   listed so the user can pick another with `--path`.
//! - **Kustomize overlays**: `overlays/<env>/` (or `envs/<env>/`) folders
//!   with a `kustomization.yaml`, or one at the root.
//! - **Plain folders**: anything else, synced from the root as Flux
//!   syncs a folder without a kustomization (every YAML file, recursively).

use std::fmt;
use std::path::Path;

use crate::gitops::render::KUSTOMIZATION_FILES;
use crate::gitops::yaml::documents;

/// How a repository is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `clusters/<name>/` with Flux Kustomizations.
    Flux,
    /// Kustomize overlays.
    Kustomize,
    /// Plain YAML folders.
    Plain,
}

/// A recognised layout: its kind, the path to sync, and the other
/// candidates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The kind.
    pub kind: Kind,
    /// The path Flux would sync, relative to the root (`.` for the root).
    pub path: String,
    /// Other paths of the same kind (other clusters, other overlays).
    pub others: Vec<String>,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            Kind::Flux => write!(f, "a Flux repository (cluster folder {})", self.path),
            Kind::Kustomize => write!(f, "Kustomize overlays ({})", self.path),
            Kind::Plain => write!(f, "plain YAML folders (synced from {})", self.path),
        }
    }
}

fn sorted_dirs(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    out.sort();
    out
}

/// Whether a YAML file under `dir` (recursively) holds a Flux Kustomization.
fn has_flux_kustomization(dir: &Path) -> bool {
    let Ok(read) = std::fs::read_dir(dir) else {
        return false;
    };
    read.filter_map(Result::ok).any(|e| {
        let p = e.path();
        if p.is_dir() {
            return has_flux_kustomization(&p);
        }
        if !p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            return false;
        }
        let Ok(text) = std::fs::read_to_string(&p) else {
            return false;
        };
        documents::parse(&text).is_ok_and(|docs| {
            docs.iter().any(|d| {
                d.value["kind"] == "Kustomization"
                    && d.value["apiVersion"]
                        .as_str()
                        .is_some_and(|v| v.starts_with("kustomize.toolkit.fluxcd.io/"))
            })
        })
    })
}

fn has_kustomization_file(dir: &Path) -> bool {
    KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file())
}

/// Puts `staging` first, when there is one.
fn pick(mut names: Vec<String>, prefix: &str) -> Option<(String, Vec<String>)> {
    if let Some(i) = names.iter().position(|n| n == "staging") {
        let s = names.remove(i);
        names.insert(0, s);
    }
    let mut paths = names.into_iter().map(|n| format!("{prefix}/{n}"));
    let first = paths.next()?;
    Some((first, paths.collect()))
}

/// Recognises the layout of the checkout at `root` (see the module docs).
pub fn detect(root: &Path) -> Layout {
    let clusters: Vec<String> = sorted_dirs(&root.join("clusters"))
        .into_iter()
        .filter(|n| has_flux_kustomization(&root.join("clusters").join(n)))
        .collect();
    if let Some((path, others)) = pick(clusters, "clusters") {
        return Layout {
            kind: Kind::Flux,
            path,
            others,
        };
    }
    for parent in ["overlays", "envs", "environments"] {
        let overlays: Vec<String> = sorted_dirs(&root.join(parent))
            .into_iter()
            .filter(|n| has_kustomization_file(&root.join(parent).join(n)))
            .collect();
        if let Some((path, others)) = pick(overlays, parent) {
            return Layout {
                kind: Kind::Kustomize,
                path,
                others,
            };
        }
    }
    let kind = if has_kustomization_file(root) {
        Kind::Kustomize
    } else {
        Kind::Plain
    };
    Layout {
        kind,
        path: ".".to_owned(),
        others: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/repos")
            .join(name)
    }

    #[test]
    fn recognises_the_fixture_layouts() {
        let podinfo = detect(&fixture("podinfo"));
        assert_eq!(
            (podinfo.kind, podinfo.path.as_str()),
            (Kind::Flux, "clusters/staging")
        );
        let shop = detect(&fixture("shop"));
        assert_eq!((shop.kind, shop.path.as_str()), (Kind::Plain, "."));
        let tmp = tempfile::tempdir().unwrap();
        for env in ["prod", "dev"] {
            let d = tmp.path().join("overlays").join(env);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("kustomization.yaml"), "resources: []\n").unwrap();
        }
        let k = detect(tmp.path());
        assert_eq!(k.kind, Kind::Kustomize);
        assert_eq!(k.path, "overlays/dev");
        assert_eq!(k.others, ["overlays/prod"]);
    }
}
