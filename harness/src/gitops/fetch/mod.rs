//! Fetching a reference of a remote as a source controller does, through
//! the real `git` CLI: resolve a branch, tag, commit, reference name or
//! semver range of tags against a URL ([`checkout`]), fetch the commit into
//! a cached bare repository, and store it as an artifact — a `git archive`
//! tarball and its extracted tree ([`store`]).
//!
//! Used by the simulator's emulated source-controller and by the direct
//! bootstrap's reconciler. Errors are messages in the source-controller's
//! words (`unable to clone '<url>': couldn't find remote ref
//! "refs/heads/x"`), with credentials in URLs redacted.

pub mod semver;

use std::path::Path;
use std::time::Duration;

use crate::gitops::repo::{self, GitRef, GitSettings, Revision};
use crate::process::{Cmd, redact};

/// What a GitRepository follows: a git reference, or a semver range of
/// tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follow {
    /// Branch, tag, commit or reference name.
    Ref(GitRef),
    /// The highest tag in a semver range.
    Semver(String),
}

impl Follow {
    /// Reads `spec.ref` with Flux's precedence (commit > name > semver >
    /// tag > branch, default branch `master`).
    ///
    /// # Errors
    /// A message when a field is not a string.
    pub fn from_spec(spec_ref: Option<&serde_json::Value>) -> Result<Follow, String> {
        let semver = spec_ref
            .and_then(|r| r.get("semver"))
            .and_then(serde_json::Value::as_str)
            .filter(|s| !s.is_empty());
        let has = |f: &str| {
            spec_ref
                .and_then(|r| r.get(f))
                .and_then(serde_json::Value::as_str)
                .is_some_and(|s| !s.is_empty())
        };
        match semver {
            Some(range) if !has("commit") && !has("name") => Ok(Follow::Semver(range.to_owned())),
            _ => GitRef::from_flux_ref(spec_ref).map(Follow::Ref),
        }
    }
}

fn git(settings: &GitSettings, dir: Option<&Path>, timeout: Duration) -> Cmd {
    settings.network_cmd(dir).timeout(timeout)
}

fn stderr_of(e: &crate::process::ProcessError) -> String {
    let text = e
        .stderr()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    text.unwrap_or_else(|| e.to_string())
        .lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim_start_matches("fatal: ")
        .to_owned()
}

async fn ensure_bare(settings: &GitSettings, bare: &Path, timeout: Duration) -> Result<(), String> {
    if bare.join("HEAD").exists() {
        return Ok(());
    }
    std::fs::create_dir_all(bare).map_err(|e| format!("cannot create {}: {e}", bare.display()))?;
    git(settings, Some(bare), timeout)
        .args(["init", "--bare", "--quiet"])
        .output()
        .await
        .map(|_| ())
        .map_err(|e| stderr_of(&e))
}

/// The revision `follow` points to at `url`, fetched into `bare`.
///
/// # Errors
/// The source-controller's message for a missing reference, commit or
/// tag, or an unreachable remote.
pub async fn checkout(
    settings: &GitSettings,
    bare: &Path,
    url: &str,
    follow: &Follow,
    timeout: Duration,
) -> Result<Revision, String> {
    ensure_bare(settings, bare, timeout).await?;
    let reference = match follow {
        Follow::Semver(range) => GitRef::Tag(highest_tag(settings, url, range, timeout).await?),
        Follow::Ref(r) => r.clone(),
    };
    let remote = Remote {
        settings,
        bare,
        url,
        shown: redact(url),
        timeout,
    };
    match &reference {
        GitRef::Commit { sha, branch } => {
            let full = remote.fetch_commit(sha, branch.as_deref()).await?;
            Ok(reference.revision(full))
        }
        _ => remote.fetch_ref(&reference).await,
    }
}

/// The ref name of a reference, as the source-controller names it in
/// messages (`refs/heads/main`, `refs/tags/v1`).
fn refname(reference: &GitRef) -> String {
    match reference {
        GitRef::Branch(b) => format!("refs/heads/{b}"),
        GitRef::Tag(t) => format!("refs/tags/{t}"),
        GitRef::Name(n) => n.clone(),
        GitRef::Commit { sha, .. } => sha.clone(),
    }
}

/// A remote fetched into a bare repository.
struct Remote<'a> {
    settings: &'a GitSettings,
    bare: &'a Path,
    url: &'a str,
    /// The URL with credentials redacted, for messages.
    shown: String,
    timeout: Duration,
}

impl Remote<'_> {
    fn git(&self) -> Cmd {
        git(self.settings, Some(self.bare), self.timeout)
    }

    /// Fetches `branch` (or everything), then checks the commit is there
    /// (and on the branch); returns its full SHA.
    async fn fetch_commit(&self, sha: &str, branch: Option<&str>) -> Result<String, String> {
        let shown = &self.shown;
        let refspecs: Vec<String> = match branch {
            Some(b) => vec![format!("+refs/heads/{b}:refs/remotes/origin/{b}")],
            None => vec![
                "+refs/heads/*:refs/remotes/origin/*".to_owned(),
                "+refs/tags/*:refs/tags/*".to_owned(),
            ],
        };
        self.git()
            .args(["fetch", "--quiet", "--force", "--"])
            .arg(self.url)
            .args(&refspecs)
            .output()
            .await
            .map_err(|e| match branch {
                Some(b) if stderr_of(&e).contains("couldn't find remote ref") => {
                    format!(
                        "unable to clone '{shown}': couldn't find remote ref \"refs/heads/{b}\""
                    )
                }
                _ => format!("unable to clone '{shown}': {}", stderr_of(&e)),
            })?;
        let resolved = self
            .git()
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("{sha}^{{commit}}"))
            .output()
            .await
            .map_err(|_| {
                format!("unable to resolve commit object for '{sha}': object not found")
            })?;
        let full = resolved.stdout.trim().to_owned();
        if let Some(b) = branch {
            let on_branch = self
                .git()
                .args(["merge-base", "--is-ancestor", &full])
                .arg(format!("refs/remotes/origin/{b}"))
                .output()
                .await;
            if on_branch.is_err() {
                return Err(format!(
                    "unable to resolve commit object for '{sha}': object not found on branch '{b}'"
                ));
            }
        }
        Ok(full)
    }

    /// Lists the reference at the remote and fetches its commit (shallow)
    /// unless the bare repository has it.
    async fn fetch_ref(&self, reference: &GitRef) -> Result<Revision, String> {
        let shown = &self.shown;
        let listed = repo::ls_remote(self.url, reference, self.settings)
            .await
            .map_err(|e| match e {
                repo::Error::RevisionNotFound { .. } => format!(
                    "unable to clone '{shown}': couldn't find remote ref \"{}\"",
                    refname(reference)
                ),
                other => format!(
                    "unable to list remote for '{shown}': {}",
                    crate::error_chain::one_line(&other)
                ),
            })?;
        if has_commit(self.settings, self.bare, &listed.sha, self.timeout).await {
            return Ok(reference.revision(listed.sha));
        }
        self.git()
            .args([
                "fetch",
                "--quiet",
                "--force",
                "--depth=1",
                "--no-tags",
                "--",
            ])
            .arg(self.url)
            .arg(format!("+{}:refs/gameday/fetched", refname(reference)))
            .output()
            .await
            .map_err(|e| format!("unable to clone '{shown}': {}", stderr_of(&e)))?;
        let fetched = self
            .git()
            .args(["rev-parse", "refs/gameday/fetched^{commit}"])
            .output()
            .await
            .map_err(|e| format!("unable to clone '{shown}': {}", stderr_of(&e)))?;
        // The remote may have moved since it was listed: report what was
        // fetched.
        Ok(reference.revision(fetched.stdout.trim()))
    }
}

async fn has_commit(settings: &GitSettings, bare: &Path, sha: &str, timeout: Duration) -> bool {
    git(settings, Some(bare), timeout)
        .args(["cat-file", "-e"])
        .arg(format!("{sha}^{{commit}}"))
        .output()
        .await
        .is_ok()
}

async fn highest_tag(
    settings: &GitSettings,
    url: &str,
    range: &str,
    timeout: Duration,
) -> Result<String, String> {
    let shown = redact(url);
    let out = git(settings, None, timeout)
        .args(["ls-remote", "--tags", "--refs", "--"])
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("unable to list remote for '{shown}': {}", stderr_of(&e)))?;
    let tags: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.split_once('\t')?.1.strip_prefix("refs/tags/"))
        .collect();
    match semver::highest(range, tags.iter().copied()) {
        Ok(Some(t)) => Ok(t.to_owned()),
        Ok(None) => Err(format!("no match found for semver: {range}")),
        Err(e) => Err(format!("semver parse error: {e}")),
    }
}

/// The stored artifact of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// `sha256:<hex>` of the tarball.
    pub digest: String,
    /// Tarball size in bytes.
    pub size: u64,
}

/// Archives `sha` of `bare` as `tarball` and extracts it into `tree`
/// (replacing what was there).
///
/// # Errors
/// A message naming the failed step.
pub async fn store(
    settings: &GitSettings,
    bare: &Path,
    sha: &str,
    tarball: &Path,
    tree: &Path,
    timeout: Duration,
) -> Result<Stored, String> {
    let parent = tarball.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("failed to create storage directory: {e}"))?;
    let partial = tarball.with_extension("partial");
    git(settings, Some(bare), timeout)
        .args(["archive", "--format=tar.gz", "-o"])
        .arg(&partial)
        .arg(sha)
        .output()
        .await
        .map_err(|e| format!("failed to archive commit {sha}: {}", stderr_of(&e)))?;
    std::fs::rename(&partial, tarball).map_err(|e| format!("failed to store artifact: {e}"))?;
    let bytes = std::fs::read(tarball).map_err(|e| format!("failed to read artifact: {e}"))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let staging = tree.with_extension("extracting");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("failed to create {}: {e}", staging.display()))?;
    Cmd::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(&staging)
        .timeout(timeout)
        .output()
        .await
        .map_err(|e| format!("failed to extract artifact: {}", stderr_of(&e)))?;
    let _ = std::fs::remove_dir_all(tree);
    std::fs::rename(&staging, tree).map_err(|e| format!("failed to store artifact tree: {e}"))?;
    Ok(Stored {
        digest: format!("sha256:{hex}"),
        size: bytes.len() as u64,
    })
}

/// Archives the tree at `tree` as `tarball` (replacing it), reproducibly:
/// entries in name order, owner 0, time 0, no name or time in the gzip
/// header — the same tree gives the same digest. The source-controller
/// archives what is left of a checkout after its ignore rules and includes.
///
/// # Errors
/// A message naming the failed step.
pub async fn pack(tree: &Path, tarball: &Path, timeout: Duration) -> Result<Stored, String> {
    let tar = tarball.with_extension("packing");
    Cmd::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "-cf",
        ])
        .arg(&tar)
        .arg("-C")
        .arg(tree)
        .arg(".")
        .timeout(timeout)
        .output()
        .await
        .map_err(|e| format!("failed to archive the artifact: {}", stderr_of(&e)))?;
    Cmd::new("gzip")
        .args(["-n", "-f"])
        .arg(&tar)
        .timeout(timeout)
        .output()
        .await
        .map_err(|e| format!("failed to compress the artifact: {}", stderr_of(&e)))?;
    let mut gz = tar.into_os_string();
    gz.push(".gz");
    std::fs::rename(&gz, tarball).map_err(|e| format!("failed to store artifact: {e}"))?;
    let bytes = std::fs::read(tarball).map_err(|e| format!("failed to read artifact: {e}"))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
    let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    Ok(Stored {
        digest: format!("sha256:{hex}"),
        size: bytes.len() as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn follow_reads_semver_with_flux_precedence() {
        assert_eq!(
            Follow::from_spec(Some(
                &json!({"semver": ">=1.0.0", "tag": "v0.1", "branch": "main"})
            )),
            Ok(Follow::Semver(">=1.0.0".into()))
        );
        assert_eq!(
            Follow::from_spec(Some(&json!({"semver": ">=1.0.0", "commit": "abc"}))),
            Ok(Follow::Ref(GitRef::commit("abc")))
        );
        assert_eq!(
            Follow::from_spec(None),
            Ok(Follow::Ref(GitRef::branch("master")))
        );
    }
}
