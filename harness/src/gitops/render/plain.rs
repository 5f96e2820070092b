//! Folders without a kustomization file: every YAML file, as Flux's
//! generated kustomization lists them.

use std::fs;
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::{Object, Provenance, RenderOptions, kustomization_file, kustomize, objects_of};
use crate::gitops::yaml::documents;

/// Folders the source-controller leaves out of artifacts by default
/// (`ExcludeVCS` and `ExcludeCI` of fluxcd/pkg/sourceignore), at any depth.
const EXCLUDED_DIRS: [&str; 3] = [".git", ".github", ".circleci"];

/// Files the source-controller leaves out by default, at any depth.
const EXCLUDED_FILES: [&str; 13] = [
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    ".goreleaser.yml",
    ".sops.yaml",
    ".flux.yaml",
];

/// One step of the walk, in order: what Flux's generated kustomization
/// lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    /// A YAML file (relative to the source root).
    File(PathBuf),
    /// A sub-folder with a kustomization file, built by kustomize.
    Kustomize {
        /// The folder, relative to the source root.
        dir: PathBuf,
        /// Its kustomization file, relative to the source root.
        file: PathBuf,
    },
}

/// One step of the walk with its objects read.
enum Piece {
    /// Objects read from plain files.
    Objects(Vec<Object>),
    /// A sub-folder with a kustomization file, to build.
    Kustomize { dir: PathBuf, file: PathBuf },
}

/// What Flux's generated kustomization for the folder `rel` (relative to
/// `root`, known to exist) lists, in walk order.
///
/// # Errors
/// A folder or a linked file that cannot be read, a link leaving the
/// source.
pub(super) fn list(root: &Path, rel: &Path) -> Result<Vec<Entry>> {
    let canonical_root = fs::canonicalize(root).map_err(|source| Error::Read {
        path: PathBuf::new(),
        source,
    })?;
    let mut entries = Vec::new();
    walk(root, &canonical_root, rel, &mut entries)?;
    Ok(entries)
}

/// Renders the folder `rel` (relative to `root`, known to exist).
pub(super) async fn render(root: &Path, rel: &Path, opts: &RenderOptions) -> Result<Vec<Object>> {
    let (root_owned, rel_owned) = (root.to_owned(), rel.to_owned());
    let pieces = tokio::task::spawn_blocking(move || {
        list(&root_owned, &rel_owned)?
            .into_iter()
            .map(|entry| match entry {
                Entry::File(rel) => Ok(Piece::Objects(read_file(&root_owned.join(&rel), &rel)?)),
                Entry::Kustomize { dir, file } => Ok(Piece::Kustomize { dir, file }),
            })
            .collect::<Result<Vec<_>>>()
    })
    .await
    .map_err(|e| Error::Read {
        path: rel.to_owned(),
        source: std::io::Error::other(e.to_string()),
    })??;
    let mut objects = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Objects(mut o) => objects.append(&mut o),
            Piece::Kustomize { dir, file } => {
                objects.extend(kustomize::build(root, &dir, &file, opts).await?);
            }
        }
    }
    Ok(objects)
}

fn walk(root: &Path, canonical_root: &Path, rel: &Path, out: &mut Vec<Entry>) -> Result<()> {
    let read_err = |source| Error::Read {
        path: rel.to_owned(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(root.join(rel))
        .map_err(read_err)?
        .collect::<Result<_, _>>()
        .map_err(read_err)?;
    // Go's filepath.Walk visits names in byte order, as this does.
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        let child = rel.join(&name);
        let kind = entry.file_type().map_err(|source| Error::Read {
            path: child.clone(),
            source,
        })?;
        let abs = root.join(&child);
        if kind.is_dir() {
            if EXCLUDED_DIRS.contains(&name_str.as_ref()) {
                continue;
            }
            match kustomization_file(&abs) {
                Some(file) => out.push(Entry::Kustomize {
                    file: child.join(file),
                    dir: child,
                }),
                None => walk(root, canonical_root, &child, out)?,
            }
            continue;
        }
        let is_yaml = name_str.ends_with(".yaml") || name_str.ends_with(".yml");
        if !is_yaml || EXCLUDED_FILES.contains(&name_str.as_ref()) {
            continue;
        }
        if kind.is_symlink() {
            // Directories behind links are not walked (Go's walk uses Lstat);
            // files behind links are read when they stay inside the source.
            match fs::canonicalize(&abs) {
                Ok(target) if target.is_dir() => continue,
                Ok(target) if !target.starts_with(canonical_root) => {
                    return Err(Error::OutsideSource {
                        path: child.display().to_string(),
                    });
                }
                Ok(_) => {}
                Err(source) => {
                    return Err(Error::Read {
                        path: child,
                        source,
                    });
                }
            }
        }
        out.push(Entry::File(child));
    }
    Ok(())
}

fn read_file(abs: &Path, rel: &Path) -> Result<Vec<Object>> {
    let bytes = fs::read(abs).map_err(|source| Error::Read {
        path: rel.to_owned(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| Error::Read {
        path: rel.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let docs = documents::parse(text).map_err(|e| Error::yaml(rel, e))?;
    let mut objects = Vec::new();
    for doc in docs {
        if doc.value.is_null() {
            continue;
        }
        let source = Provenance {
            file: rel.to_owned(),
            document: doc.index,
            line: doc.line,
            built: false,
        };
        objects_of(doc.value, source, &mut objects)?;
    }
    Ok(objects)
}
