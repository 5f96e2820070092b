//! Paths in a scenario: files and folders relative to the scenario file,
//! which must exist, and paths inside the source repository, which are
//! cleaned but never leave it.

use std::path::{Path, PathBuf};

use super::Cx;
use crate::scenario::diagnostic::Collector;

impl Cx<'_> {
    pub(super) fn resolve(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_owned()
        } else {
            normalize(&self.base_dir.join(path))
        }
    }

    pub(super) fn existing_file(&self, c: &mut Collector, field: &str, p: &str) -> PathBuf {
        let path = self.resolve(p);
        if !path.is_file() {
            let what = if path.is_dir() {
                "is a folder, not a file"
            } else {
                "does not exist"
            };
            c.field_help(
                field,
                format!("{p:?} ({}) {what}", path.display()),
                "paths are relative to the scenario file's folder",
            );
        }
        path
    }

    pub(super) fn existing_dir(&self, c: &mut Collector, field: &str, p: &str) -> PathBuf {
        let path = self.resolve(p);
        if !path.is_dir() {
            let what = if path.exists() {
                "is not a folder"
            } else {
                "does not exist"
            };
            c.field_help(
                field,
                format!("{p:?} ({}) {what}", path.display()),
                "paths are relative to the scenario file's folder",
            );
        }
        path
    }
}

/// `./apps//x/` → `apps/x`; empty → `.`.
pub(super) fn clean_repo_path(p: &str) -> String {
    let parts: Vec<&str> = p
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Removes `.` and resolves `..` lexically (the path may not exist).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in p.components() {
        match comp {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_are_cleaned() {
        assert_eq!(clean_repo_path("./clusters/staging/"), "clusters/staging");
        assert_eq!(clean_repo_path("./"), ".");
        assert_eq!(clean_repo_path(""), ".");
    }

    #[test]
    fn normalizes_parent_dirs() {
        assert_eq!(
            normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
