//! Source repositories, driven through the `git` CLI.
//!
//! A [`Repo`] is a working copy that a drill reads and changes:
//! - [`Repo::from_fixture`] copies a fixture folder into a temporary
//!   directory and makes it a fresh repository on branch `main`, with a fixed
//!   identity and fixed dates, so the same fixture always gives the same
//!   commit SHA (in any directory, on any machine with the same files);
//! - [`Repo::clone_url`] clones a URL or a local path, following a branch,
//!   a tag or a commit as Flux's `GitRepository.spec.ref` does;
//! - [`Repo::head`] gives the revision Flux would report, and the change
//!   operations ([`Repo::set_field`], [`Repo::write_file`],
//!   [`Repo::delete_file`], [`Repo::revert`]) commit and return the new one.
//!
//! Every git command runs through [`crate::process::Cmd`] with the user's
//! git configuration ignored by default (see [`GitSettings`]). Credentials
//! in URLs are redacted in errors and logs; note that git itself keeps the
//! URL, credentials included, in the clone's `.git/config`, and that the
//! URL is visible to other local users in the process list while `git
//! clone` runs.
//!
//! File modes: a fixture's files are committed as regular non-executable
//! files (`git -c core.fileMode=false add`), so that the executable bits of
//! a checkout cannot change the SHA. Symbolic links are committed as links.
//! Entries are ordered by git itself (trees are sorted), and `.git` folders
//! inside a fixture are not copied.

mod change;
mod clone;
mod error;
pub(crate) mod fixture;
mod git;
mod history;
mod pushable;
mod remote;
mod revision;

use std::path::{Path, PathBuf};

use crate::scratch::Scratch;

pub use change::Change;
pub use error::{Error, Result};
pub use git::{CommitDates, GitSettings, Identity};
pub use history::CommitInfo;
pub use pushable::{PushRefused, local_path, push_refusal};
pub use remote::ls_remote;
pub use revision::{GitRef, Revision};

/// The branch a fixture repository is created on.
pub const FIXTURE_BRANCH: &str = "main";

/// Options of [`Repo::from_fixture`] and [`Repo::init`].
#[derive(Debug, Clone, Default)]
pub struct FixtureOptions {
    /// Directory in which the temporary working copy is created (default:
    /// the system's temporary directory). Ignored by [`Repo::init`].
    pub parent: Option<PathBuf>,
    /// Message of the initial commit (default `Import fixture <folder name>`).
    pub message: Option<String>,
    /// How git runs (defaults: isolated, fixed dates).
    pub git: GitSettings,
}

/// Options of [`Repo::clone_url`].
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// What to check out (default: the remote's default branch).
    pub reference: Option<GitRef>,
    /// Directory in which the temporary working copy is created.
    pub parent: Option<PathBuf>,
    /// Push every commit to the remote right after making it (default true).
    pub push_commits: bool,
    /// How git runs (default [`GitSettings::for_remote`]: commits dated now).
    pub git: GitSettings,
}

impl Default for CloneOptions {
    fn default() -> Self {
        CloneOptions {
            reference: None,
            parent: None,
            push_commits: true,
            git: GitSettings::for_remote(),
        }
    }
}

/// Where the working copy lives, and whether dropping the [`Repo`] deletes it.
#[derive(Debug)]
enum Workdir {
    /// A temporary directory, deleted with the `Repo`.
    Temp(Scratch),
    /// A directory the caller owns (or chose to keep).
    Kept(PathBuf),
}

/// A Git working copy that drills read and change. See the module docs.
pub struct Repo {
    workdir: Workdir,
    git: GitSettings,
    /// The URL this was cloned from (credentials included; never displayed
    /// without [`crate::process::redact`]).
    origin: Option<String>,
    follows: GitRef,
    push_commits: bool,
    /// Serialises operations that touch the index and refs.
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // By hand, so the origin's credentials never reach a log.
        f.debug_struct("Repo")
            .field("path", &self.path())
            .field("temporary", &self.is_temporary())
            .field("origin", &self.origin())
            .field("follows", &self.follows)
            .field("push_commits", &self.push_commits)
            .finish_non_exhaustive()
    }
}

fn temp_dir(parent: Option<&Path>) -> Result<Scratch> {
    let made = match parent {
        Some(p) => Scratch::new_in("repo", p),
        None => Scratch::new("repo"),
    };
    made.map_err(|source| Error::Io {
        action: "create a temporary directory in",
        path: parent.map_or_else(std::env::temp_dir, Path::to_path_buf),
        source,
    })
}

impl Repo {
    /// Copies `fixture` into a new temporary directory and makes it a
    /// repository with one commit on branch `main`. The directory is
    /// deleted when the `Repo` is dropped, unless [`Repo::keep`] is called.
    ///
    /// # Errors
    /// [`Error::FixtureNotFound`], [`Error::Io`] while copying,
    /// [`Error::Git`] when git fails.
    pub async fn from_fixture(fixture: &Path, opts: &FixtureOptions) -> Result<Repo> {
        if !fixture.is_dir() {
            return Err(Error::FixtureNotFound {
                path: fixture.to_owned(),
            });
        }
        let dir = temp_dir(opts.parent.as_deref())?;
        let (from, to) = (fixture.to_owned(), dir.path().to_owned());
        let copied = tokio::task::spawn_blocking(move || fixture::copy_tree(&from, &to))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))
            .and_then(|r| r)
            .map_err(|source| Error::Io {
                action: "copy the fixture into",
                path: dir.path().to_owned(),
                source,
            })?;
        tracing::debug!(fixture = %fixture.display(), files = copied, dir = %dir.path().display(), "copied fixture");
        let message = opts
            .message
            .clone()
            .unwrap_or_else(|| default_message(fixture));
        let mut repo = Repo::new(
            Workdir::Temp(dir),
            opts.git.clone(),
            None,
            GitRef::branch(FIXTURE_BRANCH),
        );
        repo.import(&message).await?;
        Ok(repo)
    }

    /// Makes the existing directory `dir` a repository with one commit of
    /// all its files on branch `main`, in place (the caller owns `dir`; it
    /// is never deleted). For generated trees such as [`crate::gitops::synth`].
    ///
    /// # Errors
    /// [`Error::FixtureNotFound`] when `dir` is not a directory,
    /// [`Error::Git`] when git fails (e.g. `dir` is already a repository
    /// with commits on `main`).
    pub async fn init(dir: &Path, opts: &FixtureOptions) -> Result<Repo> {
        if !dir.is_dir() {
            return Err(Error::FixtureNotFound {
                path: dir.to_owned(),
            });
        }
        let message = opts.message.clone().unwrap_or_else(|| default_message(dir));
        let mut repo = Repo::new(
            Workdir::Kept(dir.to_owned()),
            opts.git.clone(),
            None,
            GitRef::branch(FIXTURE_BRANCH),
        );
        repo.import(&message).await?;
        Ok(repo)
    }

    /// Opens an existing working copy in `dir` that follows `follows`.
    /// The directory is never deleted by the `Repo`.
    ///
    /// # Errors
    /// [`Error::Git`] when `dir` is not a git working copy.
    pub async fn open(dir: &Path, follows: GitRef, git: GitSettings) -> Result<Repo> {
        let out = git
            .cmd(Some(dir))
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .await
            .map_err(|e| Error::git(format!("opening {} as a repository", dir.display()), e))?;
        let top = PathBuf::from(out.stdout.trim());
        Ok(Repo::new(Workdir::Kept(top), git, None, follows))
    }

    fn new(workdir: Workdir, git: GitSettings, origin: Option<String>, follows: GitRef) -> Repo {
        Repo {
            workdir,
            git,
            origin,
            follows,
            push_commits: false,
            lock: tokio::sync::Mutex::new(()),
        }
    }

    async fn import(&mut self, message: &str) -> Result<()> {
        let dir = self.path().to_owned();
        let git = &self.git;
        git.cmd(Some(&dir))
            .args(["init", "--quiet", "--initial-branch", FIXTURE_BRANCH])
            .output()
            .await
            .map_err(|e| {
                Error::git(format!("initialising a repository in {}", dir.display()), e)
            })?;
        // Without trusting the file system's executable bits, new files are
        // added as 100644 whatever their mode on disk.
        git.cmd(Some(&dir))
            .args(["-c", "core.fileMode=false", "add", "--all"])
            .output()
            .await
            .map_err(|e| Error::git("adding the fixture's files", e))?;
        git.committing_cmd(&dir, None)
            .args([
                "commit",
                "--quiet",
                "--allow-empty",
                "--no-verify",
                "-m",
                message,
            ])
            .output()
            .await
            .map_err(|e| Error::git("committing the fixture", e))?;
        Ok(())
    }

    /// The working copy's directory.
    pub fn path(&self) -> &Path {
        match &self.workdir {
            Workdir::Temp(t) => t.path(),
            Workdir::Kept(p) => p,
        }
    }

    /// What the repository follows (branch `main` for a fixture).
    pub fn follows(&self) -> &GitRef {
        &self.follows
    }

    /// The URL it was cloned from, credentials redacted.
    pub fn origin(&self) -> Option<String> {
        self.origin.as_deref().map(crate::process::redact)
    }

    /// The git settings in use.
    pub fn settings(&self) -> &GitSettings {
        &self.git
    }

    /// Whether commits are pushed to the remote right after they are made.
    pub fn pushes_commits(&self) -> bool {
        self.push_commits && self.origin.is_some()
    }

    /// Turns pushing after each commit on or off (only meaningful for clones).
    pub fn set_push_commits(&mut self, push: bool) {
        self.push_commits = push;
    }

    /// Keeps the working copy on disk after the `Repo` is dropped (for
    /// `--retain`) and returns its path.
    pub fn keep(&mut self) -> PathBuf {
        let path = self.path().to_owned();
        if let Workdir::Temp(_) = self.workdir {
            let old = std::mem::replace(&mut self.workdir, Workdir::Kept(path.clone()));
            if let Workdir::Temp(t) = old {
                // Disarms deletion; the path stays valid.
                let _ = t.keep();
            }
        }
        path
    }

    /// Whether dropping the `Repo` deletes its directory.
    pub fn is_temporary(&self) -> bool {
        matches!(self.workdir, Workdir::Temp(_))
    }

    /// The revision Flux would report for what the repository follows,
    /// e.g. `main@sha1:<40 hex>`.
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`] when the followed reference is gone.
    pub async fn head(&self) -> Result<Revision> {
        self.revision(&self.follows).await
    }

    /// The revision of any reference of this repository, in Flux's format.
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`] when it does not exist.
    pub async fn revision(&self, reference: &GitRef) -> Result<Revision> {
        let expr = match reference {
            GitRef::Branch(b) => format!("refs/heads/{b}"),
            GitRef::Tag(t) => format!("refs/tags/{t}"),
            GitRef::Commit { sha, .. } => sha.clone(),
            GitRef::Name(n) => n.clone(),
        };
        let sha = rev_parse(&self.git, self.path(), &expr)
            .await?
            .ok_or_else(|| Error::RevisionNotFound {
                reference: reference.to_string(),
                repo: self.describe(),
                source: None,
            })?;
        Ok(reference.revision(sha))
    }

    /// Resolves any git revision expression (`HEAD~1`, a short SHA, a tag)
    /// to a full commit SHA.
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`] when it names no commit.
    pub async fn resolve(&self, rev: &str) -> Result<String> {
        rev_parse(&self.git, self.path(), rev)
            .await?
            .ok_or_else(|| Error::RevisionNotFound {
                reference: format!("revision {rev}"),
                repo: self.describe(),
                source: None,
            })
    }

    /// The repository for messages: its redacted origin, or its path.
    pub(crate) fn describe(&self) -> String {
        self.origin()
            .unwrap_or_else(|| self.path().display().to_string())
    }
}

fn default_message(dir: &Path) -> String {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "fixture".into());
    format!("Import fixture {name}")
}

/// `git rev-parse --verify` of `expr` as a commit: `Ok(None)` when it does
/// not exist.
async fn rev_parse(git: &GitSettings, dir: &Path, expr: &str) -> Result<Option<String>> {
    let out = git
        .cmd(Some(dir))
        .args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{expr}^{{commit}}"))
        .output_unchecked()
        .await
        .map_err(|e| Error::git(format!("resolving {expr}"), e))?;
    match out.status.code() {
        Some(0) => {
            let sha = out.stdout.trim().to_owned();
            if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(Some(sha))
            } else {
                Err(Error::Unexpected {
                    action: format!("resolving {expr}"),
                    output: sha.chars().take(200).collect(),
                })
            }
        }
        Some(1) => Ok(None),
        _ => Err(Error::Unexpected {
            action: format!("resolving {expr} (exit status {:?})", out.status.code()),
            output: out.stderr.chars().take(400).collect(),
        }),
    }
}

async fn checkout_detached(git: &GitSettings, dir: &Path, sha: &str) -> Result<()> {
    git.cmd(Some(dir))
        .args(["checkout", "--quiet", "--detach", sha])
        .output()
        .await
        .map_err(|e| Error::git(format!("checking out {sha}"), e))?;
    Ok(())
}
