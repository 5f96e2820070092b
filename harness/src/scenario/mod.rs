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
pub mod schema;
mod to_file;

use std::path::{Path, PathBuf};

pub use convert::is_dns_label;
pub use diagnostic::{Diagnostic, Diagnostics, Location};
pub use load::{MAX_FILE_BYTES, load, load_str};
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
    /// A folder holds no scenario file.
    #[error("{0}: no scenario files (*.yaml, *.yml) in this folder")]
    Empty(PathBuf),
}

/// Expands files and folders into the scenario files to load: a file is
/// taken as is; a folder contributes its `*.yaml`/`*.yml` files,
/// recursively, in name order (hidden entries skipped).
///
/// # Errors
/// A path that does not exist, an unreadable folder, or a folder without
/// scenario files.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                return Err(DiscoverError::Empty(path.clone()));
            }
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(DiscoverError::Missing(path.clone()));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DiscoverError> {
    let read = std::fs::read_dir(dir).map_err(|source| DiscoverError::ReadDir {
        path: dir.to_owned(),
        source,
    })?;
    let mut entries: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
    Ok(())
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
