//! Reading a repository's history and trees.

use std::path::Path;

use super::Repo;
use super::change::relative;
use super::error::{Error, Result};

/// One commit of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    /// Full SHA.
    pub sha: String,
    /// First line of the message.
    pub subject: String,
    /// Author name.
    pub author: String,
    /// Committer date.
    pub time: jiff::Timestamp,
}

impl Repo {
    /// The last `limit` commits reachable from HEAD, newest first.
    ///
    /// # Errors
    /// [`Error::Git`], [`Error::Unexpected`].
    pub async fn log(&self, limit: usize) -> Result<Vec<CommitInfo>> {
        let out = self
            .git
            .cmd(Some(self.path()))
            .args(["log", "--format=%H%x1f%ct%x1f%an%x1f%s"])
            .arg(format!("--max-count={limit}"))
            .output()
            .await
            .map_err(|e| Error::git("reading the history", e))?;
        out.stdout
            .lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let bad = || Error::Unexpected {
                    action: "reading the history".into(),
                    output: line.chars().take(200).collect(),
                };
                let mut parts = line.splitn(4, '\u{1f}');
                let (Some(sha), Some(ct), Some(author), Some(subject)) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(bad());
                };
                let secs: i64 = ct.parse().map_err(|_| bad())?;
                Ok(CommitInfo {
                    sha: sha.to_owned(),
                    subject: subject.to_owned(),
                    author: author.to_owned(),
                    time: jiff::Timestamp::from_second(secs).map_err(|_| bad())?,
                })
            })
            .collect()
    }

    /// The content of `file` at revision `rev` (`git show rev:file`).
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`]; [`Error::Git`] when the file does not
    /// exist at that revision.
    pub async fn read_file_at(&self, rev: &str, file: impl AsRef<Path>) -> Result<String> {
        let sha = self.resolve(rev).await?;
        let rel = relative(file.as_ref())?;
        let spec = format!("{sha}:{}", rel.to_string_lossy());
        let out = self
            .git
            .cmd(Some(self.path()))
            .args(["show", &spec])
            .output()
            .await
            .map_err(|e| Error::git(format!("reading {}", rel.display()), e))?;
        Ok(out.stdout)
    }

    /// Writes the tree of revision `rev` into `dest` (created if needed),
    /// without touching the working copy, the index or HEAD — what a source
    /// controller does when it builds an artifact of a revision.
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`]; [`Error::Io`]; [`Error::Git`].
    pub async fn export(&self, rev: &str, dest: &Path) -> Result<()> {
        let sha = self.resolve(rev).await?;
        tokio::fs::create_dir_all(dest)
            .await
            .map_err(|source| Error::Io {
                action: "create",
                path: dest.to_owned(),
                source,
            })?;
        // A private index, so the repository's own index is never touched.
        let scratch = tempfile::tempdir().map_err(|source| Error::Io {
            action: "create a temporary directory in",
            path: std::env::temp_dir(),
            source,
        })?;
        let index = scratch.path().join("index");
        let git = |args: &[&str]| {
            self.git
                .cmd(Some(self.path()))
                .env("GIT_INDEX_FILE", &index)
                .args(args)
        };
        git(&["read-tree", &sha])
            .output()
            .await
            .map_err(|e| Error::git(format!("reading the tree of {sha}"), e))?;
        let mut prefix = dest.as_os_str().to_owned();
        prefix.push("/");
        git(&["checkout-index", "--all", "--force"])
            .arg(format!("--prefix={}", prefix.to_string_lossy()))
            .output()
            .await
            .map_err(|e| {
                Error::git(
                    format!("writing the tree of {sha} to {}", dest.display()),
                    e,
                )
            })?;
        Ok(())
    }
}
