//! Cloning a URL or a local path, following a branch, tag, commit or name.

use super::error::{Error, Result};
use super::{CloneOptions, GitRef, Repo, Workdir, checkout_detached, rev_parse, temp_dir};

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
        let git = opts.git.clone();
        let shown = crate::process::redact(url);
        let path = dir.path().to_owned();
        let clone = |extra: &[&str]| {
            git.network_cmd(None)
                .args(["clone", "--quiet"])
                .args(extra)
                .arg("--")
                .arg(url)
                .arg(&path)
        };
        let not_found = |reference: &GitRef, source: Option<crate::process::ProcessError>| {
            Error::RevisionNotFound {
                reference: reference.to_string(),
                repo: shown.clone(),
                source,
            }
        };
        let follows = match &opts.reference {
            None => {
                clone(&[])
                    .output()
                    .await
                    .map_err(|e| Error::git(format!("cloning {shown}"), e))?;
                let out = git
                    .cmd(Some(&path))
                    .args(["symbolic-ref", "--quiet", "--short", "HEAD"])
                    .output()
                    .await
                    .map_err(|e| Error::git(format!("reading the default branch of {shown}"), e))?;
                GitRef::branch(out.stdout.trim())
            }
            Some(r @ (GitRef::Branch(name) | GitRef::Tag(name))) => {
                clone(&["--branch", name]).output().await.map_err(|e| {
                    if e.stderr()
                        .is_some_and(|s| s.contains("not found in upstream"))
                    {
                        not_found(r, Some(e))
                    } else {
                        Error::git(format!("cloning {shown} ({r})"), e)
                    }
                })?;
                r.clone()
            }
            Some(r @ GitRef::Commit { sha, branch }) => {
                let mut extra = vec!["--no-checkout"];
                if let Some(b) = branch {
                    extra.extend(["--branch", b]);
                }
                clone(&extra).output().await.map_err(|e| {
                    if e.stderr()
                        .is_some_and(|s| s.contains("not found in upstream"))
                    {
                        not_found(r, Some(e))
                    } else {
                        Error::git(format!("cloning {shown} ({r})"), e)
                    }
                })?;
                let full = rev_parse(&git, &path, sha)
                    .await?
                    .ok_or_else(|| not_found(r, None))?;
                checkout_detached(&git, &path, &full).await?;
                r.clone()
            }
            Some(r @ GitRef::Name(name)) => {
                clone(&["--no-checkout"])
                    .output()
                    .await
                    .map_err(|e| Error::git(format!("cloning {shown}"), e))?;
                git.network_cmd(Some(&path))
                    // The clone's HEAD may already be this branch.
                    .args(["fetch", "--quiet", "--update-head-ok", "origin"])
                    .arg(format!("+{name}:{name}"))
                    .output()
                    .await
                    .map_err(|e| {
                        if e.stderr()
                            .is_some_and(|s| s.contains("couldn't find remote ref"))
                        {
                            not_found(r, Some(e))
                        } else {
                            Error::git(format!("fetching {name} from {shown}"), e)
                        }
                    })?;
                match r.moving_branch() {
                    Some(b) => {
                        git.cmd(Some(&path))
                            .args(["checkout", "--quiet", b])
                            .output()
                            .await
                            .map_err(|e| Error::git(format!("checking out {b}"), e))?;
                    }
                    None => {
                        let full = rev_parse(&git, &path, name)
                            .await?
                            .ok_or_else(|| not_found(r, None))?;
                        checkout_detached(&git, &path, &full).await?;
                    }
                }
                r.clone()
            }
        };
        tracing::debug!(url = %shown, dir = %path.display(), follows = %follows, "cloned");
        let mut repo = Repo::new(Workdir::Temp(dir), git, Some(url.to_owned()), follows);
        repo.push_commits = opts.push_commits;
        Ok(repo)
    }
}
