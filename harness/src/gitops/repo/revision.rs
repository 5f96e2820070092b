//! Git references a source follows, and revisions in Flux's format.

use std::fmt;

/// What a source follows, as Flux's `GitRepository.spec.ref` says it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GitRef {
    /// A branch (`spec.ref.branch`).
    Branch(String),
    /// A tag (`spec.ref.tag`).
    Tag(String),
    /// A commit (`spec.ref.commit`), optionally with the branch it is on.
    Commit {
        /// The commit SHA (full, or a prefix git can resolve).
        sha: String,
        /// The branch, when given along with the commit.
        branch: Option<String>,
    },
    /// A full reference name (`spec.ref.name`), such as `refs/heads/main`.
    Name(String),
}

impl GitRef {
    /// The branch `name`.
    pub fn branch(name: impl Into<String>) -> Self {
        GitRef::Branch(name.into())
    }

    /// The tag `name`.
    pub fn tag(name: impl Into<String>) -> Self {
        GitRef::Tag(name.into())
    }

    /// The commit `sha`, on no particular branch.
    pub fn commit(sha: impl Into<String>) -> Self {
        GitRef::Commit {
            sha: sha.into(),
            branch: None,
        }
    }

    /// The reference of a scenario's `source` (`branch`, `tag`, `commit`),
    /// with Flux's precedence (commit > tag > branch) and branch `main` by
    /// default. A commit keeps the branch when both are given.
    pub fn from_parts(
        branch: Option<String>,
        tag: Option<String>,
        commit: Option<String>,
    ) -> GitRef {
        match (commit, tag, branch) {
            (Some(sha), _, branch) => GitRef::Commit { sha, branch },
            (None, Some(tag), _) => GitRef::Tag(tag),
            (None, None, branch) => GitRef::Branch(branch.unwrap_or_else(|| "main".into())),
        }
    }

    /// Reads a Flux `GitRepository.spec.ref` object, with Flux's precedence
    /// (commit > name > semver > tag > branch) and default (branch `master`).
    ///
    /// # Errors
    /// A message when `semver` is the deciding field (not supported here) or
    /// a field is not a string.
    pub fn from_flux_ref(spec_ref: Option<&serde_json::Value>) -> Result<GitRef, String> {
        let field = |name: &str| -> Result<Option<String>, String> {
            match spec_ref.and_then(|r| r.get(name)) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(format!("spec.ref.{name} must be a string, found {other}")),
            }
        };
        if let Some(sha) = field("commit")? {
            return Ok(GitRef::Commit {
                sha,
                branch: field("branch")?,
            });
        }
        if let Some(name) = field("name")? {
            return Ok(GitRef::Name(name));
        }
        if field("semver")?.is_some() {
            return Err("spec.ref.semver is not supported; use a tag, a branch or a commit".into());
        }
        if let Some(tag) = field("tag")? {
            return Ok(GitRef::Tag(tag));
        }
        Ok(GitRef::Branch(
            field("branch")?.unwrap_or_else(|| "master".into()),
        ))
    }

    /// The branch commits go to, when following this reference moves with
    /// new commits (a branch, or a `refs/heads/…` name).
    pub fn moving_branch(&self) -> Option<&str> {
        match self {
            GitRef::Branch(b) => Some(b),
            GitRef::Name(n) => n.strip_prefix("refs/heads/"),
            GitRef::Tag(_) | GitRef::Commit { .. } => None,
        }
    }

    /// The part of a revision string before `@sha1:` (`None` for a bare
    /// commit, whose revision is just `sha1:<hex>`).
    pub fn revision_prefix(&self) -> Option<&str> {
        match self {
            GitRef::Branch(b) => Some(b),
            GitRef::Tag(t) => Some(t),
            GitRef::Commit { branch, .. } => branch.as_deref(),
            GitRef::Name(n) => Some(n),
        }
    }

    /// The revision of `sha` when reached through this reference.
    pub fn revision(&self, sha: impl Into<String>) -> Revision {
        Revision {
            reference: self.revision_prefix().map(str::to_owned),
            sha: sha.into(),
        }
    }
}

impl fmt::Display for GitRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GitRef::Branch(b) => write!(f, "branch {b}"),
            GitRef::Tag(t) => write!(f, "tag {t}"),
            GitRef::Commit { sha, branch: None } => write!(f, "commit {sha}"),
            GitRef::Commit {
                sha,
                branch: Some(b),
            } => write!(f, "commit {sha} on branch {b}"),
            GitRef::Name(n) => write!(f, "reference {n}"),
        }
    }
}

/// A revision in Flux's format (`GitRepository.status.artifact.revision`):
/// `main@sha1:<40 hex>`, `v1.2.0@sha1:<hex>`, `refs/heads/main@sha1:<hex>`,
/// or `sha1:<hex>` for a commit followed without a branch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Revision {
    /// The branch, tag or reference name, when there is one.
    pub reference: Option<String>,
    /// The full commit SHA (40 lowercase hex digits).
    pub sha: String,
}

impl Revision {
    /// Parses Flux's format (`<ref>@sha1:<hex>` or `sha1:<hex>`).
    ///
    /// # Errors
    /// A message when the text is not in that format.
    pub fn parse(text: &str) -> Result<Revision, String> {
        let (reference, digest) = match text.rsplit_once('@') {
            Some((r, d)) if !r.is_empty() => (Some(r.to_owned()), d),
            Some(_) => return Err(format!("`{text}` has an empty reference before `@`")),
            None => (None, text),
        };
        let sha = digest
            .strip_prefix("sha1:")
            .ok_or_else(|| format!("`{text}` is not a Flux revision (`<ref>@sha1:<hex>`)"))?;
        if sha.len() != 40 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!("`{text}` does not end with a 40-digit hex SHA-1"));
        }
        Ok(Revision {
            reference,
            sha: sha.to_ascii_lowercase(),
        })
    }

    /// The first 7 hex digits of the SHA, as `git log --oneline` shows.
    pub fn short_sha(&self) -> &str {
        &self.sha[..self.sha.len().min(7)]
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.reference {
            Some(r) => write!(f, "{r}@sha1:{}", self.sha),
            None => write!(f, "sha1:{}", self.sha),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "363a6a8fe6a7f13e05d34c163b0ef02a777da20a";

    #[test]
    fn formats_like_flux() {
        assert_eq!(
            GitRef::branch("main").revision(SHA).to_string(),
            format!("main@sha1:{SHA}")
        );
        assert_eq!(
            GitRef::tag("v1.2.0").revision(SHA).to_string(),
            format!("v1.2.0@sha1:{SHA}")
        );
        assert_eq!(
            GitRef::commit(SHA).revision(SHA).to_string(),
            format!("sha1:{SHA}")
        );
        let on_branch = GitRef::Commit {
            sha: SHA.into(),
            branch: Some("feature/x".into()),
        };
        assert_eq!(
            on_branch.revision(SHA).to_string(),
            format!("feature/x@sha1:{SHA}")
        );
        assert_eq!(
            GitRef::Name("refs/heads/main".into())
                .revision(SHA)
                .to_string(),
            format!("refs/heads/main@sha1:{SHA}")
        );
    }

    #[test]
    fn parses_what_it_formats() {
        for text in [
            format!("main@sha1:{SHA}"),
            format!("sha1:{SHA}"),
            format!("feature/x@sha1:{SHA}"),
        ] {
            assert_eq!(Revision::parse(&text).unwrap().to_string(), text);
        }
        assert!(Revision::parse("main/abc").is_err());
        assert!(Revision::parse("main@sha1:abc").is_err());
        assert!(Revision::parse(&format!("@sha1:{SHA}")).is_err());
    }

    #[test]
    fn reads_flux_ref_with_precedence() {
        assert_eq!(
            GitRef::from_flux_ref(None).unwrap(),
            GitRef::branch("master")
        );
        assert_eq!(
            GitRef::from_flux_ref(Some(&json!({"branch": "main", "tag": "v1"}))).unwrap(),
            GitRef::tag("v1")
        );
        assert_eq!(
            GitRef::from_flux_ref(Some(&json!({"branch": "main", "commit": SHA}))).unwrap(),
            GitRef::Commit {
                sha: SHA.into(),
                branch: Some("main".into())
            }
        );
        assert_eq!(
            GitRef::from_flux_ref(Some(&json!({"name": "refs/tags/v1", "tag": "v2"}))).unwrap(),
            GitRef::Name("refs/tags/v1".into())
        );
        assert!(GitRef::from_flux_ref(Some(&json!({"semver": ">=1.0"}))).is_err());
        assert!(GitRef::from_flux_ref(Some(&json!({"branch": 3}))).is_err());
    }

    #[test]
    fn scenario_parts_follow_flux_precedence() {
        assert_eq!(GitRef::from_parts(None, None, None), GitRef::branch("main"));
        assert_eq!(
            GitRef::from_parts(Some("dev".into()), Some("v1".into()), None),
            GitRef::tag("v1")
        );
        assert_eq!(
            GitRef::from_parts(Some("dev".into()), None, Some(SHA.into())),
            GitRef::Commit {
                sha: SHA.into(),
                branch: Some("dev".into())
            }
        );
    }

    #[test]
    fn only_branches_move() {
        assert_eq!(GitRef::branch("main").moving_branch(), Some("main"));
        assert_eq!(
            GitRef::Name("refs/heads/dev".into()).moving_branch(),
            Some("dev")
        );
        assert_eq!(GitRef::tag("v1").moving_branch(), None);
        assert_eq!(GitRef::commit(SHA).moving_branch(), None);
    }
}
