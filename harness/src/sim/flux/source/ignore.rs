//! What the source-controller leaves out of a GitRepository's artifact
//! (fluxcd/pkg `sourceignore`, source-controller's `SourceIgnoreFilter`),
//! in gitignore syntax, later patterns winning over earlier ones:
//!
//! 1. the version control files (`.git/`, `.gitignore`, `.gitmodules`,
//!    `.gitattributes`), always;
//! 2. when the repository and the spec give no pattern of their own, the
//!    default exclusions too: images and archives (`*.jpg`, `*.jpeg`,
//!    `*.gif`, `*.png`, `*.wmv`, `*.flv`, `*.tar.gz`, `*.zip`), CI
//!    configuration (`.github/`, `.circleci/`, `.travis.yml`,
//!    `.gitlab-ci.yml`, `appveyor.yml`, `.drone.yml`, `cloudbuild.yaml`,
//!    `codeship-services.yml`, `codeship-steps.yml`) and
//!    `**/.goreleaser.yml`, `**/.sops.yaml`, `**/.flux.yaml` — any pattern
//!    of a `.sourceignore` file or of `spec.ignore` replaces them, as in
//!    Flux;
//! 3. every `.sourceignore` file of the repository, each relative to its
//!    own folder (the root's first, then the folders' in walk order);
//! 4. `spec.ignore`, relative to the root.
//!
//! A `!pattern` brings back what an earlier one excluded. Files under an
//! excluded folder are excluded. Symbolic links are left out whatever the
//! rules say: source-controller archives regular files only.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

/// Version control files, always excluded (`ExcludeVCS`).
const VCS: &[&str] = &[".git/", ".gitignore", ".gitmodules", ".gitattributes"];

/// The default exclusions, used only when neither the repository nor the
/// spec has patterns (`ExcludeExt`, `ExcludeCI`, `ExcludeExtra`).
const DEFAULTS: &[&str] = &[
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.png",
    "*.wmv",
    "*.flv",
    "*.tar.gz",
    "*.zip",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// The name of the ignore files read from the repository.
pub const IGNORE_FILE: &str = ".sourceignore";

fn invalid(what: &str, e: ignore::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("{what}: {e}"))
}

fn matcher<'a>(
    root: &Path,
    from: &str,
    lines: impl IntoIterator<Item = &'a str>,
) -> io::Result<Gitignore> {
    let mut b = GitignoreBuilder::new(root);
    for line in lines {
        b.add_line(Some(PathBuf::from(from)), line)
            .map_err(|e| invalid(from, e))?;
    }
    b.build().map_err(|e| invalid(from, e))
}

/// The rules of the tree at `tree` with `spec.ignore`, in order.
struct Rules {
    layers: Vec<Gitignore>,
}

impl Rules {
    fn load(tree: &Path, spec_ignore: Option<&str>) -> io::Result<Rules> {
        let mut layers = Vec::new();
        let mut dirs = vec![tree.to_owned()];
        while let Some(dir) = dirs.pop() {
            let file = dir.join(IGNORE_FILE);
            if file.is_file() {
                let text = fs::read_to_string(&file)?;
                let from = file
                    .strip_prefix(tree)
                    .unwrap_or(&file)
                    .display()
                    .to_string();
                layers.push(matcher(&dir, &from, text.lines())?);
            }
            let mut subs: Vec<PathBuf> = fs::read_dir(&dir)?
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && e.file_name() != ".git")
                .map(|e| e.path())
                .collect();
            // Walk order: name order, depth first.
            subs.sort();
            dirs.extend(subs.into_iter().rev());
        }
        if let Some(text) = spec_ignore {
            layers.push(matcher(tree, "spec.ignore", text.lines())?);
        }
        let own_patterns = layers.iter().any(|l| !l.is_empty());
        let defaults = VCS
            .iter()
            .chain(if own_patterns { &[][..] } else { DEFAULTS })
            .copied();
        layers.insert(0, matcher(tree, "default exclusions", defaults)?);
        Ok(Rules { layers })
    }

    /// Whether `path` (under the tree) is left out; the last layer with an
    /// opinion decides.
    fn excluded(&self, path: &Path, is_dir: bool) -> bool {
        for layer in self.layers.iter().rev() {
            if !path.starts_with(layer.path()) || path == layer.path() {
                continue;
            }
            match layer.matched_path_or_any_parents(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }
}

/// Removes from the artifact tree at `tree` what the rules leave out;
/// returns the number of files removed.
///
/// # Errors
/// An unreadable tree, an invalid pattern (naming the file or
/// `spec.ignore`).
pub fn filter(tree: &Path, spec_ignore: Option<&str>) -> io::Result<usize> {
    let rules = Rules::load(tree, spec_ignore)?;
    prune(&rules, tree)
}

fn prune(rules: &Rules, dir: &Path) -> io::Result<usize> {
    let mut removed = 0;
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            fs::remove_file(&path)?;
            removed += 1;
        } else if kind.is_dir() {
            removed += prune(rules, &path)?;
            let empty = fs::read_dir(&path)?.next().is_none();
            if empty && rules.excluded(&path, true) {
                fs::remove_dir(&path)?;
            }
        } else if rules.excluded(&path, false) {
            fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, text).unwrap();
        }
        dir
    }

    fn files(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn without_patterns_the_default_exclusions_apply() {
        let t = tree(&[
            (".github/workflows/ci.yaml", "x"),
            (".gitignore", "x"),
            ("clusters/.sops.yaml", "x"),
            ("docs/logo.png", "x"),
            ("apps/deploy.yaml", "x"),
            (".sourceignore", "# only a comment\n\n"),
        ]);
        std::os::unix::fs::symlink("deploy.yaml", t.path().join("apps/link.yaml")).unwrap();
        assert_eq!(filter(t.path(), None).unwrap(), 5);
        assert_eq!(files(t.path()), [".sourceignore", "apps/deploy.yaml"]);
        assert!(!t.path().join(".github").exists());
    }

    #[test]
    fn sourceignore_and_spec_ignore_replace_the_defaults_in_flux_order() {
        let t = tree(&[
            (".github/workflows/ci.yaml", "x"),
            (".gitignore", "x"),
            ("docs/logo.png", "x"),
            (".sourceignore", "docs/\n*.md\n"),
            ("README.md", "x"),
            ("apps/.sourceignore", "/local.yaml\n"),
            ("apps/local.yaml", "x"),
            ("apps/web/local.yaml", "x"),
            ("apps/web/deploy.yaml", "x"),
            ("apps/notes.md", "x"),
            ("infra/secret.enc.yaml", "x"),
            ("infra/keep.md", "x"),
            ("infra/crds.yaml", "x"),
        ]);
        let removed = filter(t.path(), Some("*.enc.yaml\n!infra/keep.md\n")).unwrap();
        assert_eq!(
            files(t.path()),
            [
                ".github/workflows/ci.yaml",
                ".sourceignore",
                "apps/.sourceignore",
                "apps/web/deploy.yaml",
                "apps/web/local.yaml",
                "infra/crds.yaml",
                "infra/keep.md",
            ],
            "CI files stay once the repository has patterns; .gitignore never does"
        );
        assert_eq!(removed, 6);
        assert!(!t.path().join("docs").exists());
    }
}
