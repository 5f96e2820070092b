//! Scenario files: the versioned file format, its conversion into the
//! internal model the engine runs, validation, and the JSON Schema.
//!
//! Two shapes, as the design requires: [`file`](mod@file) is what users
//! write (`gameday/v1alpha1`, strict), [`model`] is what the engine sees
//! (every default applied, every path absolute). [`load`] goes from one to
//! the other and reports every problem with the file and a line:column or
//! field path.
//!
//! Both shapes, and the conversion between them, are folders with one file
//! per section of a scenario (cluster, source, bootstrap, steady state,
//! setup, disaster, recovery, rto, expect): `file/`, `model/`, and
//! `convert/` with each section's defaults and rules plus the checks that
//! span sections. `to_file` is the inverse, [`schema`] the published JSON
//! Schema, [`capabilities`] the tables of what goes with what, and
//! [`duration`] the human durations both shapes use.

pub mod capabilities;
mod convert;
pub mod diagnostic;
pub mod duration;
pub mod file;
mod load;
pub mod model;
pub mod partition;
pub mod schema;
mod to_file;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use convert::is_dns_label;
pub use diagnostic::{Diagnostic, Diagnostics, Location};
pub use load::{MAX_FILE_BYTES, load, load_one, load_one_str, load_str};
pub use model::Scenario;
pub use to_file::{to_file, to_yaml};

/// Errors finding scenario files.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    /// A path given on the command line does not exist.
    #[error("{0}: no such file or folder")]
    Missing(PathBuf),
    /// A folder could not be read.
    #[error("cannot read folder {path}")]
    ReadDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A link leads back into a folder that holds it.
    #[error("{}: a link back to {} (a loop); remove the link", link.display(), target.display())]
    Loop {
        /// The link.
        link: PathBuf,
        /// The folder it leads to.
        target: PathBuf,
    },
    /// A link leads out of the folder given.
    #[error(
        "{}: a link to {}, outside {}; links out of the folder given are not followed: pass that folder as its own argument",
        link.display(),
        target.display(),
        root.display()
    )]
    OutOfFolder {
        /// The link.
        link: PathBuf,
        /// Where it leads.
        target: PathBuf,
        /// The folder given.
        root: PathBuf,
    },
    /// A folder holds no scenario file.
    #[error("{0}: no scenario files (*.yaml, *.yml) in this folder")]
    Empty(PathBuf),
}

/// Expands files and folders into the scenario files to load: a file is
/// taken as is; a folder contributes its `*.yaml`/`*.yml` files,
/// recursively, in name order (hidden entries skipped).
///
/// Each real folder is walked once (by canonical path) and each real file
/// listed once, however many links lead to it. A link to a folder is
/// followed only when the folder lies inside the folder given; a link that
/// leads back into the folder that holds it is a loop and an error.
///
/// # Errors
/// A path that does not exist, an unreadable folder, a folder without
/// scenario files, a link loop, or a link out of the folder given.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut out = Vec::new();
    let mut seen_files = BTreeSet::new();
    for path in paths {
        if path.is_dir() {
            let before = out.len();
            let root = canonical(path)?;
            let mut walk = Walk {
                root: &root,
                seen_dirs: BTreeSet::new(),
                seen_files: &mut seen_files,
                out: &mut out,
            };
            walk.dir(path, &root, &mut Vec::new())?;
            if out.len() == before {
                return Err(DiscoverError::Empty(path.clone()));
            }
        } else if path.exists() {
            if seen_files.insert(canonical(path)?) {
                out.push(path.clone());
            }
        } else {
            return Err(DiscoverError::Missing(path.clone()));
        }
    }
    Ok(out)
}

fn canonical(path: &Path) -> Result<PathBuf, DiscoverError> {
    std::fs::canonicalize(path).map_err(|source| DiscoverError::ReadDir {
        path: path.to_owned(),
        source,
    })
}

/// One folder given on the command line, walked.
struct Walk<'a> {
    root: &'a Path,
    seen_dirs: BTreeSet<PathBuf>,
    seen_files: &'a mut BTreeSet<PathBuf>,
    out: &'a mut Vec<PathBuf>,
}

impl Walk<'_> {
    /// `dir` as reached (for the paths listed), `real` its canonical path,
    /// `stack` the real folders above it (to tell a loop from a second link).
    fn dir(
        &mut self,
        dir: &Path,
        real: &Path,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), DiscoverError> {
        if !self.seen_dirs.insert(real.to_owned()) {
            return Ok(());
        }
        let read = std::fs::read_dir(dir).map_err(|source| DiscoverError::ReadDir {
            path: dir.to_owned(),
            source,
        })?;
        let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        stack.push(real.to_owned());
        for p in entries {
            let hidden = p
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if hidden {
                continue;
            }
            if p.is_dir() {
                let target = canonical(&p)?;
                let is_link = p
                    .symlink_metadata()
                    .is_ok_and(|m| m.file_type().is_symlink());
                if is_link && stack.contains(&target) {
                    return Err(DiscoverError::Loop { link: p, target });
                }
                if !target.starts_with(self.root) {
                    return Err(DiscoverError::OutOfFolder {
                        link: p,
                        target,
                        root: self.root.to_owned(),
                    });
                }
                self.dir(&p, &target, stack)?;
            } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                // A dangling link is listed, so loading it says what is wrong.
                let real = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
                if self.seen_files.insert(real) {
                    self.out.push(p);
                }
            }
        }
        stack.pop();
        Ok(())
    }
}

/// The scenario run on another provider (`gameday run --provider`),
/// validated again: the new provider may not be able to inject its faults.
///
/// # Errors
/// [`Diagnostics`] naming what the new provider cannot do.
pub fn with_provider(s: &Scenario, provider: model::Provider) -> Result<Scenario, Diagnostics> {
    let mut out = s.clone();
    out.cluster.provider = provider;
    let mut c = diagnostic::Collector::default();
    convert::check_combinations(&mut c, &out);
    if c.items.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics {
            file: s.file.clone(),
            items: c.items,
        })
    }
}

/// Drills of one run that share a name, one line each (`name`: the files):
/// names identify drills in reports, baselines, merges and partitions, so
/// two drills named alike would be mixed up.
pub fn duplicate_names(scenarios: &[Scenario]) -> Vec<String> {
    let mut by_name: std::collections::BTreeMap<&str, Vec<&Path>> = Default::default();
    for s in scenarios {
        by_name.entry(&s.name).or_default().push(&s.file);
    }
    by_name
        .into_iter()
        .filter(|(_, files)| files.len() > 1)
        .map(|(name, files)| {
            let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            format!(
                "{} drills are named {name} ({}): names identify drills in reports, baselines and partitions; rename one (metadata.name, or the spec.disasters entry's name)",
                files.len(),
                files.join(", ")
            )
        })
        .collect()
}
