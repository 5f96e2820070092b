//! Cloning a URL or a local path, following a branch, tag, commit or name.

use std::path::PathBuf;

use super::error::{Error, Result};
use super::{
    CloneOptions, GitRef, GitSettings, Repo, Workdir, checkout_detached, rev_parse, temp_dir,
};
use crate::process::{Cmd, ProcessError};

impl Repo {
    /// Clones `url` (a remote URL or a local path) into a new temporary
    /// directory and checks out `opts.reference`.
    ///
    /// # Errors
    /// [`Error::RevisionNotFound`] when the branch, tag or commit does not
    /// exist; [`Error::Git`] when the clone fails (unreachable remote,
    /// authentication…), with the URL redacted.
    pub async fn clone_url(url: &str, opts: &CloneOptions) -> Result<Repo> {
        let dir = temp_dir(opts.parent.as_deref())?;
        let c = Cloning {
            git: opts.git.clone(),
            url,
            shown: crate::process::redact(url),
            path: dir.path().to_owned(),
        };
        let follows = match &opts.reference {
            None => c.default_branch().await?,
            Some(r @ (GitRef::Branch(name) | GitRef::Tag(name))) => {
                c.branch_or_tag(r, name).await?
            }
            Some(r @ GitRef::Commit { sha, branch }) => c.commit(r, sha, branch.as_deref()).await?,
            Some(r @ GitRef::Name(name)) => c.name(r, name).await?,
        };
        tracing::debug!(url = %c.shown, dir = %c.path.display(), follows = %follows, "cloned");
        let mut repo = Repo::new(Workdir::Temp(dir), c.git, Some(url.to_owned()), follows);
        repo.push_commits = opts.push_commits;
        Ok(repo)
    }
}

/// One clone in progress; each method clones for one kind of reference
/// and returns what the repository follows.
struct Cloning<'a> {
    git: GitSettings,
    url: &'a str,
    /// The URL with credentials redacted, for messages.
    shown: String,
    path: PathBuf,
}

impl Cloning<'_> {
    fn clone(&self, extra: &[&str]) -> Cmd {
        self.git
            .network_cmd(None)
            .args(["clone", "--quiet"])
            .args(extra)
            .arg("--")
            .arg(self.url)
            .arg(&self.path)
    }

    fn not_found(&self, reference: &GitRef, source: Option<ProcessError>) -> Error {
        Error::RevisionNotFound {
            reference: reference.to_string(),
            repo: self.shown.clone(),
            source,
        }
    }

    /// A clone of `r` failed: not found upstream, or another failure.
    fn clone_failed(&self, r: &GitRef, e: ProcessError) -> Error {
        if e.stderr()
            .is_some_and(|s| s.contains("not found in upstream"))
        {
            self.not_found(r, Some(e))
        } else {
            Error::git(format!("cloning {} ({r})", self.shown), e)
        }
    }

    /// The remote's default branch.
    async fn default_branch(&self) -> Result<GitRef> {
        let shown = &self.shown;
        self.clone(&[])
            .output()
            .await
            .map_err(|e| Error::git(format!("cloning {shown}"), e))?;
        let out = self
            .git
            .cmd(Some(&self.path))
            .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
            .output()
            .await
            .map_err(|e| Error::git(format!("reading the default branch of {shown}"), e))?;
        Ok(GitRef::branch(out.stdout.trim()))
    }

    async fn branch_or_tag(&self, r: &GitRef, name: &str) -> Result<GitRef> {
        self.clone(&["--branch", name])
            .output()
            .await
            .map_err(|e| self.clone_failed(r, e))?;
        Ok(r.clone())
    }

    /// A commit (on `branch`, when given), checked out detached.
    async fn commit(&self, r: &GitRef, sha: &str, branch: Option<&str>) -> Result<GitRef> {
        let mut extra = vec!["--no-checkout"];
        if let Some(b) = branch {
            extra.extend(["--branch", b]);
        }
        self.clone(&extra)
            .output()
            .await
            .map_err(|e| self.clone_failed(r, e))?;
        let full = rev_parse(&self.git, &self.path, sha)
            .await?
            .ok_or_else(|| self.not_found(r, None))?;
        checkout_detached(&self.git, &self.path, &full).await?;
        Ok(r.clone())
    }

    /// A full ref name, fetched after the clone: a branch is checked out,
    /// anything else detached.
    async fn name(&self, r: &GitRef, name: &str) -> Result<GitRef> {
        let shown = &self.shown;
        self.clone(&["--no-checkout"])
            .output()
            .await
            .map_err(|e| Error::git(format!("cloning {shown}"), e))?;
        self.git
            .network_cmd(Some(&self.path))
            // The clone's HEAD may already be this branch.
            .args(["fetch", "--quiet", "--update-head-ok", "origin"])
            .arg(format!("+{name}:{name}"))
            .output()
            .await
            .map_err(|e| {
                if e.stderr()
                    .is_some_and(|s| s.contains("couldn't find remote ref"))
                {
                    self.not_found(r, Some(e))
                } else {
                    Error::git(format!("fetching {name} from {shown}"), e)
                }
            })?;
        match r.moving_branch() {
            Some(b) => {
                self.git
                    .cmd(Some(&self.path))
                    .args(["checkout", "--quiet", b])
                    .output()
                    .await
                    .map_err(|e| Error::git(format!("checking out {b}"), e))?;
            }
            None => {
                let full = rev_parse(&self.git, &self.path, name)
                    .await?
                    .ok_or_else(|| self.not_found(r, None))?;
                checkout_detached(&self.git, &self.path, &full).await?;
            }
        }
        Ok(r.clone())
    }
}
