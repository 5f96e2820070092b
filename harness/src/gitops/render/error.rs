//! Errors of rendering.

use std::path::PathBuf;

use super::Provenance;
use crate::gitops::yaml::ParseError;
use crate::process::ProcessError;

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("line {l}, column {c}"),
        (Some(l), None) => format!("line {l}"),
        _ => "location unknown".to_owned(),
    }
}

impl Error {
    /// The error for a YAML file that did not parse.
    pub(crate) fn yaml(file: &std::path::Path, err: ParseError) -> Error {
        match err {
            ParseError::Syntax {
                index,
                line,
                column,
                source,
            } => Error::Yaml {
                file: file.to_owned(),
                document: index,
                line,
                column,
                source,
            },
            ParseError::NotJson {
                index,
                line,
                message,
            } => Error::NotJson {
                file: file.to_owned(),
                document: index,
                line,
                message,
            },
        }
    }
}

/// The result type of rendering.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a source path could not be rendered. Under Flux emulation every
/// variant is a `BuildFailed` condition.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path does not exist in the source.
    #[error("path `{path}` does not exist in the source {}; check the Kustomization's `spec.path`", .root.display())]
    PathNotFound {
        /// The path as given.
        path: String,
        /// The source's root directory.
        root: PathBuf,
    },
    /// The path is a file, not a folder.
    #[error("path `{path}` is a file, not a folder; `spec.path` must name a folder")]
    NotADirectory {
        /// The path as given.
        path: String,
    },
    /// The path leaves the source (`../..`).
    #[error("path `{path}` leads outside the source; give a path relative to the repository root")]
    OutsideSource {
        /// The path as given.
        path: String,
    },
    /// A file or folder could not be read.
    #[error("could not read {}", .path.display())]
    Read {
        /// The file or folder, relative to the source root.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid YAML.
    #[error("{}, document {} ({}): invalid YAML", .file.display(), .document + 1, location(*.line, *.column))]
    Yaml {
        /// The file, relative to the source root.
        file: PathBuf,
        /// 0-based index of the document that failed.
        document: usize,
        /// 1-based line of the error, when known.
        line: Option<usize>,
        /// 1-based column of the error, when known.
        column: Option<usize>,
        /// The parser's error.
        #[source]
        source: serde_yaml::Error,
    },
    /// A document is valid YAML without a JSON form (`.inf`, a list as a key).
    #[error("{}, document {} ({}): {message}", .file.display(), .document + 1, location(*.line, None))]
    NotJson {
        /// The file, relative to the source root.
        file: PathBuf,
        /// 0-based index of the document.
        document: usize,
        /// 1-based line where the document starts, when known.
        line: Option<usize>,
        /// What has no JSON form.
        message: String,
    },
    /// A document is not a Kubernetes object (not a mapping, or missing
    /// `apiVersion`, `kind` or `metadata.name`).
    #[error("{at}: {problem}; every manifest needs `apiVersion`, `kind` and `metadata.name`")]
    NotAnObject {
        /// Where the document is.
        at: Provenance,
        /// What is wrong (`missing \`kind\``, `a sequence, not a mapping`…).
        problem: String,
    },
    /// `kubectl kustomize` failed; its stderr is in the source.
    #[error("kustomize build of `{}` failed", .dir.display())]
    Kustomize {
        /// The kustomization's folder, relative to the source root.
        dir: PathBuf,
        /// The failed command with the end of its stderr.
        #[source]
        source: ProcessError,
    },
    /// `kubectl kustomize` printed something that is not YAML.
    #[error("kustomize build of `{}` printed unreadable YAML", .dir.display())]
    KustomizeOutput {
        /// The kustomization's folder, relative to the source root.
        dir: PathBuf,
        /// The parse error.
        #[source]
        source: ParseError,
    },
    /// Two documents define the same object.
    #[error(
        "{id} is defined twice: in {first} and in {second}; an object may appear only once in a path"
    )]
    Duplicate {
        /// `kind/namespace/name` of the object.
        id: String,
        /// The first definition.
        first: Provenance,
        /// The second definition.
        second: Provenance,
    },
}
