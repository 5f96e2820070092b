//! Errors of source repositories.

use std::path::PathBuf;

use crate::gitops::yaml::EditError;
use crate::process::ProcessError;

/// The result type of [`super::Repo`] operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a source repository.
///
/// URLs in every message are redacted (`https://***@host/…`); the `git`
/// command line, its exit status and the end of its stderr are in the
/// [`ProcessError`] source of [`Error::Git`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A git command failed.
    #[error("{action} failed")]
    Git {
        /// What gameday was doing, e.g. `cloning https://***@host/x.git (branch main)`.
        action: String,
        /// The failed command, its status and stderr.
        #[source]
        source: ProcessError,
    },
    /// The fixture folder does not exist.
    #[error("fixture folder {} does not exist or is not a folder; `source.fixture` must name a folder of manifests", .path.display())]
    FixtureNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// A file-system operation failed.
    #[error("could not {action} {}", .path.display())]
    Io {
        /// What was attempted (`copy the fixture into`, `write`…).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A branch, tag, commit or reference does not exist.
    #[error("{reference} does not exist in {repo}")]
    RevisionNotFound {
        /// The reference, described (`branch nope`, `commit 0123abc`).
        reference: String,
        /// The repository (path or redacted URL).
        repo: String,
        /// The git command that said so, when one did.
        #[source]
        source: Option<ProcessError>,
    },
    /// A path given for a change is not a file of the repository.
    #[error("{} is not a file in {}", .file.display(), .repo.display())]
    FileNotFound {
        /// The path, relative to the repository.
        file: PathBuf,
        /// The repository's directory.
        repo: PathBuf,
    },
    /// A path given for a change leaves the repository (`..`, absolute).
    #[error("{} is outside the repository; give a path relative to its root", .path.display())]
    OutsideRepo {
        /// The path given.
        path: PathBuf,
    },
    /// A YAML file could not be edited.
    #[error("cannot edit {}", .file.display())]
    Edit {
        /// The file, relative to the repository.
        file: PathBuf,
        /// Why.
        #[source]
        source: EditError,
    },
    /// A change left every file as it was.
    #[error("{what} changes nothing in the repository; nothing to commit")]
    NoChange {
        /// The change, described.
        what: String,
    },
    /// A commit was asked for while the repository follows a tag or commit.
    #[error(
        "the source follows {reference}, not a branch: a new commit would not change what it serves; follow a branch to commit"
    )]
    NotOnBranch {
        /// The reference followed.
        reference: String,
    },
    /// A push was asked for a repository made from a fixture.
    #[error("the repository {} has no remote to push to", .repo.display())]
    NoRemote {
        /// The repository's directory.
        repo: PathBuf,
    },
    /// git printed something gameday could not read.
    #[error("unexpected output from git while {action}: {output:?}")]
    Unexpected {
        /// What gameday was doing.
        action: String,
        /// The output, shortened.
        output: String,
    },
}

impl Error {
    pub(crate) fn git(action: impl Into<String>, source: ProcessError) -> Self {
        Error::Git {
            action: crate::process::redact(&action.into()),
            source,
        }
    }
}
