//! The emulated source-controller's artifact storage, shared with the
//! emulated kustomize-controller (which, on a real cluster, downloads the
//! tarball from the source-controller's Service).
//!
//! An artifact is a `git archive` tarball at
//! `gitrepository/<namespace>/<name>/<commit>.tar.gz` (the `path` Flux
//! reports) and its extracted tree next to it, in a directory of the
//! emulation (a temporary one by default).

use std::path::{Path, PathBuf};

/// Host of the URLs artifacts are reported at, as Flux advertises them.
pub const STORAGE_HOST: &str = "source-controller.flux-system.svc.cluster.local.";

/// Where artifacts live.
#[derive(Debug)]
pub struct Artifacts {
    root: PathBuf,
    _temp: Option<crate::scratch::Scratch>,
}

impl Artifacts {
    /// Storage in `root`, or in a temporary directory deleted with it.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(root: Option<PathBuf>) -> std::io::Result<Artifacts> {
        match root {
            Some(root) => {
                std::fs::create_dir_all(&root)?;
                Ok(Artifacts { root, _temp: None })
            }
            None => {
                let temp = crate::scratch::Scratch::new("flux")?;
                Ok(Artifacts {
                    root: temp.path().to_owned(),
                    _temp: Some(temp),
                })
            }
        }
    }

    /// The storage directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The relative path of a GitRepository artifact.
    pub fn git_path(namespace: &str, name: &str, sha: &str) -> String {
        format!("gitrepository/{namespace}/{name}/{sha}.tar.gz")
    }

    /// The URL Flux reports for an artifact path.
    pub fn url(path: &str) -> String {
        format!("http://{STORAGE_HOST}/{path}")
    }

    /// The tarball of an artifact path (None for a path leaving storage).
    pub fn tarball(&self, path: &str) -> Option<PathBuf> {
        safe(path).then(|| self.root.join(path))
    }

    /// The extracted tree of an artifact path (`….tar.gz`, `….tgz`).
    pub fn tree(&self, path: &str) -> Option<PathBuf> {
        let stem = path
            .strip_suffix(".tar.gz")
            .or_else(|| path.strip_suffix(".tgz"))
            .unwrap_or(path);
        safe(stem).then(|| self.root.join(stem))
    }

    /// The directory of one GitRepository's artifacts.
    pub fn object_dir(&self, namespace: &str, name: &str) -> PathBuf {
        self.kind_dir("gitrepository", namespace, name)
    }

    /// The directory of one source's artifacts: `<kind>/<ns>/<name>`
    /// (`kind` in lowercase, as Flux lays out its storage).
    pub fn kind_dir(&self, kind: &str, namespace: &str, name: &str) -> PathBuf {
        self.root.join(kind).join(namespace).join(name)
    }

    /// Where the source-controller keeps its clones.
    pub fn git_cache(&self, namespace: &str, name: &str) -> PathBuf {
        self.root
            .join("git")
            .join(namespace)
            .join(format!("{name}.git"))
    }

    /// Deletes every artifact of a GitRepository except `keep` (Flux's
    /// garbage collection keeps the current artifact only), or all of them.
    pub fn collect_garbage(&self, namespace: &str, name: &str, keep: Option<&str>) {
        self.collect_garbage_of("gitrepository", namespace, name, keep);
        if keep.is_none() {
            let _ = std::fs::remove_dir_all(self.git_cache(namespace, name));
        }
    }

    /// Deletes every artifact of a source of `kind` (lowercase) except
    /// `keep` (a file and its extracted tree), or all of them.
    pub fn collect_garbage_of(&self, kind: &str, namespace: &str, name: &str, keep: Option<&str>) {
        let dir = self.kind_dir(kind, namespace, name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return;
        };
        let keep_stem = keep.map(|k| {
            Path::new(k)
                .file_name()
                .map(|f| {
                    let f = f.to_string_lossy();
                    let stem = f.strip_suffix(".tar.gz").or_else(|| f.strip_suffix(".tgz"));
                    stem.unwrap_or(&f).to_owned()
                })
                .unwrap_or_default()
        });
        for e in entries.flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            let stem = file
                .strip_suffix(".tar.gz")
                .or_else(|| file.strip_suffix(".tgz"))
                .unwrap_or(&file);
            if keep_stem.as_deref() == Some(stem) {
                continue;
            }
            let p = e.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
}

/// A relative path that stays inside storage.
fn safe(path: &str) -> bool {
    let p = Path::new(path);
    !path.is_empty()
        && p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_flux_and_stay_inside() {
        let a = Artifacts::new(None).unwrap();
        let p = Artifacts::git_path("flux-system", "flux-system", "abc");
        assert_eq!(p, "gitrepository/flux-system/flux-system/abc.tar.gz");
        assert_eq!(
            Artifacts::url(&p),
            "http://source-controller.flux-system.svc.cluster.local./gitrepository/flux-system/flux-system/abc.tar.gz"
        );
        assert_eq!(
            a.tree(&p).unwrap(),
            a.root().join("gitrepository/flux-system/flux-system/abc")
        );
        assert!(a.tarball("../etc/passwd").is_none());
        assert!(a.tree("/abs").is_none());
    }
}
