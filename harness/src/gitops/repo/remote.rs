//! Resolving a reference of a remote without cloning it.

use super::error::{Error, Result};
use super::git::GitSettings;
use super::revision::{GitRef, Revision};

/// The revision `reference` has at `url` (a URL or a local path), read with
/// `git ls-remote` — what a source controller checks before fetching.
///
/// A [`GitRef::Commit`] cannot be checked without fetching: its revision is
/// returned as given (the SHA must then be the full 40 hex digits).
///
/// # Errors
/// [`Error::RevisionNotFound`] when the remote has no such branch, tag or
/// reference; [`Error::Git`] when the remote cannot be read (URL redacted).
pub async fn ls_remote(url: &str, reference: &GitRef, git: &GitSettings) -> Result<Revision> {
    let shown = crate::process::redact(url);
    let pattern = match reference {
        GitRef::Branch(b) => format!("refs/heads/{b}"),
        GitRef::Tag(t) => format!("refs/tags/{t}"),
        GitRef::Name(n) => n.clone(),
        GitRef::Commit { sha, .. } => {
            if sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Ok(reference.revision(sha.to_ascii_lowercase()));
            }
            return Err(Error::RevisionNotFound {
                reference: format!("{reference} (a commit must be given as 40 hex digits)"),
                repo: shown,
                source: None,
            });
        }
    };
    let out = git
        .network_cmd(None)
        .args(["ls-remote", "--"])
        .arg(url)
        .arg(&pattern)
        .arg(format!("{pattern}^{{}}"))
        .output()
        .await
        .map_err(|e| Error::git(format!("listing the references of {shown}"), e))?;
    // An annotated tag is listed twice: the tag object, and `^{}` for the
    // commit it points to. The commit is what a revision names.
    let mut sha = None;
    for line in out.stdout.lines() {
        let Some((hash, name)) = line.split_once('\t') else {
            continue;
        };
        if name == format!("{pattern}^{{}}") {
            sha = Some(hash.to_owned());
            break;
        }
        if name == pattern {
            sha = Some(hash.to_owned());
        }
    }
    match sha {
        Some(sha) => Ok(reference.revision(sha)),
        None => Err(Error::RevisionNotFound {
            reference: reference.to_string(),
            repo: shown,
            source: None,
        }),
    }
}
