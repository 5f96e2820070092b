//! Changing a repository: commits of file changes, reverts, pushes.

use std::path::{Component, Path, PathBuf};

use super::error::{Error, Result};
use super::{Repo, Revision};
use crate::gitops::yaml::{DocSelector, FieldPath, set_fields};

/// One change to commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Set fields of one document of a YAML file (see
    /// [`crate::gitops::yaml::edit`] for what of the file is preserved).
    SetFields {
        /// The file, relative to the repository root.
        file: PathBuf,
        /// Which document of the file.
        document: DocSelector,
        /// Paths such as `spec.template.spec.containers[0].image`, with values.
        fields: Vec<(FieldPath, serde_json::Value)>,
    },
    /// Create or replace a file.
    Write {
        /// The file, relative to the repository root.
        file: PathBuf,
        /// Its new content.
        content: Vec<u8>,
    },
    /// Delete a file.
    Delete {
        /// The file, relative to the repository root.
        file: PathBuf,
    },
}

impl Change {
    /// The file the change touches.
    pub fn file(&self) -> &Path {
        match self {
            Change::SetFields { file, .. }
            | Change::Write { file, .. }
            | Change::Delete { file } => file,
        }
    }

    fn describe(&self) -> String {
        match self {
            Change::SetFields { file, fields, .. } => {
                let paths: Vec<String> = fields.iter().map(|(p, _)| p.to_string()).collect();
                format!("setting {} in {}", paths.join(", "), file.display())
            }
            Change::Write { file, .. } => format!("writing {}", file.display()),
            Change::Delete { file } => format!("deleting {}", file.display()),
        }
    }
}

/// Checks that `file` is a relative path that stays inside the repository.
pub(super) fn relative(file: &Path) -> Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in file.components() {
        match c {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(Error::OutsideRepo {
                    path: file.to_owned(),
                });
            }
        }
    }
    if out.as_os_str().is_empty() || out.starts_with(".git") {
        return Err(Error::OutsideRepo {
            path: file.to_owned(),
        });
    }
    Ok(out)
}

impl Repo {
    /// Sets one field of one document of a YAML file and commits.
    ///
    /// # Errors
    /// As [`Repo::commit`]; a bad `path` is an [`Error::Edit`].
    pub async fn set_field(
        &self,
        file: impl AsRef<Path>,
        document: DocSelector,
        path: &str,
        value: serde_json::Value,
        message: &str,
    ) -> Result<Revision> {
        let file = file.as_ref().to_owned();
        let path = FieldPath::parse(path).map_err(|e| Error::Edit {
            file: file.clone(),
            source: e.into(),
        })?;
        let change = Change::SetFields {
            file,
            document,
            fields: vec![(path, value)],
        };
        self.commit(std::slice::from_ref(&change), message).await
    }

    /// Creates or replaces a file and commits.
    ///
    /// # Errors
    /// As [`Repo::commit`].
    pub async fn write_file(
        &self,
        file: impl AsRef<Path>,
        content: impl Into<Vec<u8>>,
        message: &str,
    ) -> Result<Revision> {
        let change = Change::Write {
            file: file.as_ref().to_owned(),
            content: content.into(),
        };
        self.commit(std::slice::from_ref(&change), message).await
    }

    /// Deletes a file and commits.
    ///
    /// # Errors
    /// As [`Repo::commit`]; [`Error::FileNotFound`] when it does not exist.
    pub async fn delete_file(&self, file: impl AsRef<Path>, message: &str) -> Result<Revision> {
        let change = Change::Delete {
            file: file.as_ref().to_owned(),
        };
        self.commit(std::slice::from_ref(&change), message).await
    }

    /// Applies `changes` to the working copy, commits them as one commit
    /// with `message`, pushes when the repository pushes its commits, and
    /// returns the new head revision.
    ///
    /// # Errors
    /// [`Error::NotOnBranch`] when the repository follows a tag or commit;
    /// [`Error::OutsideRepo`], [`Error::FileNotFound`], [`Error::Edit`] for a
    /// bad change (nothing is written then: changes are computed in memory
    /// first); [`Error::NoChange`] when the files end up as they were;
    /// [`Error::Git`] when git fails.
    pub async fn commit(&self, changes: &[Change], message: &str) -> Result<Revision> {
        if self.follows.moving_branch().is_none() {
            return Err(Error::NotOnBranch {
                reference: self.follows.to_string(),
            });
        }
        let _guard = self.lock.lock().await;
        let root = self.path().to_owned();
        let planned = self.plan(changes).await?;
        let mut touched = Vec::with_capacity(planned.len());
        for (rel, content) in &planned {
            self.write_planned(rel, content.as_deref()).await?;
            touched.push(rel);
        }
        let what = changes
            .iter()
            .map(Change::describe)
            .collect::<Vec<_>>()
            .join("; ");
        self.git
            .cmd(Some(&root))
            .args(["add", "--all", "--"])
            .args(&touched)
            .output()
            .await
            .map_err(|e| Error::git(format!("staging {what}"), e))?;
        let staged = self
            .git
            .cmd(Some(&root))
            .args(["diff", "--cached", "--quiet"])
            .output_unchecked()
            .await
            .map_err(|e| Error::git("checking for staged changes", e))?;
        if staged.status.success() {
            return Err(Error::NoChange { what });
        }
        self.commit_staged(message).await?;
        drop(_guard);
        if self.pushes_commits() {
            self.push().await?;
        }
        self.head().await
    }

    /// The files' new contents (`None`: deleted), computed in memory so that
    /// a bad change leaves the working copy untouched. Later changes to the
    /// same file see the earlier ones.
    async fn plan(&self, changes: &[Change]) -> Result<Vec<(PathBuf, Option<Vec<u8>>)>> {
        let mut planned: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::with_capacity(changes.len());
        for change in changes {
            let rel = relative(change.file())?;
            let pending = planned.iter().position(|(p, _)| *p == rel);
            let current = match pending {
                Some(i) => planned[i].1.clone(),
                None => self.read_current(&rel).await?,
            };
            let next = match change {
                Change::SetFields {
                    document, fields, ..
                } => {
                    let bytes = current.ok_or_else(|| self.file_not_found(&rel))?;
                    let text = String::from_utf8(bytes).map_err(|e| Error::Io {
                        action: "read (not UTF-8 text)",
                        path: rel.clone(),
                        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
                    })?;
                    let new =
                        set_fields(&text, document, fields).map_err(|source| Error::Edit {
                            file: rel.clone(),
                            source,
                        })?;
                    Some(new.into_bytes())
                }
                Change::Write { content, .. } => Some(content.clone()),
                Change::Delete { .. } => {
                    if current.is_none() {
                        return Err(self.file_not_found(&rel));
                    }
                    None
                }
            };
            match pending {
                Some(i) => planned[i].1 = next,
                None => planned.push((rel, next)),
            }
        }
        Ok(planned)
    }

    /// The file's content in the working copy, `None` when it does not exist.
    async fn read_current(&self, rel: &Path) -> Result<Option<Vec<u8>>> {
        let abs = self.path().join(rel);
        match tokio::fs::read(&abs).await {
            Ok(b) => Ok(Some(b)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io {
                action: "read",
                path: abs,
                source,
            }),
        }
    }

    async fn write_planned(&self, rel: &Path, content: Option<&[u8]>) -> Result<()> {
        let abs = self.path().join(rel);
        let io = |action: &'static str| {
            let path = abs.clone();
            move |source| Error::Io {
                action,
                path,
                source,
            }
        };
        match content {
            Some(bytes) => {
                if let Some(parent) = abs.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(io("create the folder of"))?;
                }
                tokio::fs::write(&abs, bytes).await.map_err(io("write"))
            }
            None => tokio::fs::remove_file(&abs).await.map_err(io("delete")),
        }
    }

    fn file_not_found(&self, rel: &Path) -> Error {
        Error::FileNotFound {
            file: rel.to_owned(),
            repo: self.path().to_owned(),
        }
    }

    /// Committer time of HEAD in Unix seconds (`None` before the first commit).
    async fn head_time(&self) -> Result<Option<i64>> {
        let out = self
            .git
            .cmd(Some(self.path()))
            .args(["log", "-1", "--format=%ct"])
            .output_unchecked()
            .await
            .map_err(|e| Error::git("reading the date of HEAD", e))?;
        Ok(out.stdout.trim().parse().ok())
    }

    async fn commit_staged(&self, message: &str) -> Result<()> {
        let parent = self.head_time().await?;
        self.git
            .committing_cmd(self.path(), parent)
            .args(["commit", "--quiet", "--no-verify", "-m", message])
            .output()
            .await
            .map_err(|e| Error::git("committing", e))?;
        Ok(())
    }

    /// Reverts the commit `rev` (any revision expression) with git's
    /// default message (`Revert "<subject>"`), pushes when the repository
    /// pushes its commits, and returns the new head revision.
    ///
    /// # Errors
    /// [`Error::NotOnBranch`]; [`Error::RevisionNotFound`] for an unknown
    /// revision; [`Error::Git`] when the revert conflicts (the working copy
    /// is restored with `git revert --abort`) or `rev` is a merge commit.
    pub async fn revert(&self, rev: &str) -> Result<Revision> {
        if self.follows.moving_branch().is_none() {
            return Err(Error::NotOnBranch {
                reference: self.follows.to_string(),
            });
        }
        let sha = self.resolve(rev).await?;
        let guard = self.lock.lock().await;
        let parent = self.head_time().await?;
        let result = self
            .git
            .committing_cmd(self.path(), parent)
            .args(["revert", "--no-edit", &sha])
            .output()
            .await;
        if let Err(e) = result {
            // Leave the working copy as it was before the failed revert.
            let _ = self
                .git
                .cmd(Some(self.path()))
                .args(["revert", "--abort"])
                .output_unchecked()
                .await;
            return Err(Error::git(format!("reverting {sha}"), e));
        }
        drop(guard);
        if self.pushes_commits() {
            self.push().await?;
        }
        self.head().await
    }

    /// Pushes the followed branch to the remote it was cloned from.
    ///
    /// # Errors
    /// [`Error::NoRemote`] for a fixture repository; [`Error::NotOnBranch`];
    /// [`Error::Git`] when the push is rejected (the remote moved on, a
    /// non-bare remote with the branch checked out, no permission…).
    pub async fn push(&self) -> Result<()> {
        let Some(url) = &self.origin else {
            return Err(Error::NoRemote {
                repo: self.path().to_owned(),
            });
        };
        let Some(branch) = self.follows.moving_branch() else {
            return Err(Error::NotOnBranch {
                reference: self.follows.to_string(),
            });
        };
        let _guard = self.lock.lock().await;
        self.git
            .network_cmd(Some(self.path()))
            .args(["push", "--quiet", "origin"])
            .arg(format!("HEAD:refs/heads/{branch}"))
            .output()
            .await
            .map_err(|e| Error::git(format!("pushing {branch} to {url}"), e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_inside() {
        assert_eq!(
            relative(Path::new("./a/b.yaml")).unwrap(),
            PathBuf::from("a/b.yaml")
        );
        for bad in ["../x", "/etc/passwd", "a/../../x", "", ".git/config"] {
            assert!(relative(Path::new(bad)).is_err(), "{bad} accepted");
        }
    }
}
