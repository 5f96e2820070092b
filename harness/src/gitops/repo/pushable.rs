//! Whether commits can be pushed to a repository given as a local path:
//! a drill that pushes (a `bad-commit`, a `git-revert`) to a normal
//! checkout whose branch is checked out fails halfway with git's
//! `refusing to update checked out branch`, after a cluster was built.
//! [`push_refusal`] says so up front, from what the receiving side would
//! decide: a bare repository, or `receive.denyCurrentBranch` set to
//! `ignore`, `warn` or `updateInstead`, accepts the push; a worktree with
//! the branch checked out refuses it.
//!
//! Remote URLs (`https://`, `ssh://`, `git@host:…`) are not checked: only
//! the server can say, and a server-side repository is bare.

use std::path::{Path, PathBuf};

use super::GitSettings;

/// Why pushing to a local repository would be refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{} is a checkout with branch {branch} checked out{}: git refuses to push to it (receive.denyCurrentBranch)",
    .repo.display(),
    if .worktree == .repo { String::new() } else { format!(" (in the worktree {})", .worktree.display()) }
)]
pub struct PushRefused {
    /// The repository the URL names.
    pub repo: PathBuf,
    /// The branch pushes go to.
    pub branch: String,
    /// The worktree with the branch checked out.
    pub worktree: PathBuf,
}

impl PushRefused {
    /// What to do about it.
    pub fn help(&self) -> String {
        format!(
            "point `url` at a bare repository (`git clone --bare {} fleet.git`), or use `fixture:` for a scratch copy of the folder; \
             or allow the push with `git -C {} config receive.denyCurrentBranch updateInstead`",
            self.repo.display(),
            self.repo.display()
        )
    }
}

/// The local path a clone URL names: `file://` URLs, absolute paths and
/// relative ones (resolved against the current directory, as `git clone`
/// does). None for a remote URL.
pub fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        return Some(PathBuf::from(rest));
    }
    if url.contains("://") {
        return None;
    }
    // `host:path` (scp-like syntax) is remote unless a slash comes before
    // the colon, as git decides.
    if let Some(colon) = url.find(':')
        && !url[..colon].contains('/')
    {
        return None;
    }
    Some(PathBuf::from(url))
}

/// Why pushing `branch` to the repository at `url` would be refused, when
/// `url` is a local checkout that refuses it; None when it would be
/// accepted, when `url` is remote, or when it is not a repository (the
/// clone says so with git's own error).
pub async fn push_refusal(git: &GitSettings, url: &str, branch: &str) -> Option<PushRefused> {
    let path = local_path(url)?;
    let repo = std::path::absolute(&path).unwrap_or(path);
    let git_out = |args: &'static [&'static str]| {
        let cmd = git.cmd(Some(&repo)).args(args);
        async move { cmd.output().await.ok().map(|o| o.stdout.trim().to_owned()) }
    };
    if git_out(&["rev-parse", "--is-bare-repository"]).await? != "false" {
        return None;
    }
    let deny = git_out(&["config", "--get", "receive.denyCurrentBranch"])
        .await
        .unwrap_or_default();
    if matches!(
        deny.to_ascii_lowercase().as_str(),
        "ignore" | "warn" | "updateinstead" | "false" | "no" | "off" | "0"
    ) {
        return None;
    }
    let worktrees = git_out(&["worktree", "list", "--porcelain"]).await?;
    let worktree = checked_out_in(&worktrees, branch)?;
    Some(PushRefused {
        repo: top_level(&repo, git).await,
        branch: branch.to_owned(),
        worktree,
    })
}

/// The worktree of `git worktree list --porcelain` output with `branch`
/// checked out.
fn checked_out_in(porcelain: &str, branch: &str) -> Option<PathBuf> {
    let wanted = format!("branch refs/heads/{branch}");
    porcelain.split("\n\n").find_map(|block| {
        let mut lines = block.lines();
        let worktree = lines.next()?.strip_prefix("worktree ")?;
        lines
            .any(|l| l.trim() == wanted)
            .then(|| PathBuf::from(worktree))
    })
}

async fn top_level(repo: &Path, git: &GitSettings) -> PathBuf {
    git.cmd(Some(repo))
        .args(["rev-parse", "--show-toplevel"])
        .output()
        .await
        .map(|o| PathBuf::from(o.stdout.trim()))
        .unwrap_or_else(|_| repo.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_and_remote_urls() {
        assert_eq!(local_path("/srv/fleet"), Some("/srv/fleet".into()));
        assert_eq!(local_path("file:///srv/fleet"), Some("/srv/fleet".into()));
        assert_eq!(local_path("../fleet"), Some("../fleet".into()));
        assert_eq!(local_path("./a:b"), Some("./a:b".into()));
        assert_eq!(local_path("https://github.com/x/y.git"), None);
        assert_eq!(local_path("ssh://git@host/y.git"), None);
        assert_eq!(local_path("git@github.com:x/y.git"), None);
    }

    #[test]
    fn finds_the_worktree_with_the_branch() {
        let out = "worktree /a\nHEAD 1\nbranch refs/heads/main\n\nworktree /b\nHEAD 2\nbranch refs/heads/dev\n";
        assert_eq!(checked_out_in(out, "dev"), Some("/b".into()));
        assert_eq!(checked_out_in(out, "main"), Some("/a".into()));
        assert_eq!(checked_out_in(out, "mainline"), None);
        assert_eq!(
            checked_out_in("worktree /a\nHEAD 1\ndetached\n", "main"),
            None
        );
    }
}
