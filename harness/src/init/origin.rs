//! The repository `--source` names: a folder (used as it is, uncommitted
//! changes included), or a Git URL cloned into a temporary folder.

use std::path::{Path, PathBuf};

use crate::gitops::repo::{CloneOptions, Repo};

/// Where a source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A folder (absolute).
    Dir(PathBuf),
    /// A Git URL.
    Url(String),
}

impl Origin {
    /// A folder when `arg` names an existing one, else a URL.
    ///
    /// # Errors
    /// A message when `arg` looks like a path (`./x`, `/x`, no `:`) that
    /// does not exist.
    pub fn parse(arg: &str) -> Result<Origin, String> {
        let p = Path::new(arg);
        if p.is_dir() {
            return Ok(Origin::Dir(
                std::path::absolute(p).unwrap_or_else(|_| p.to_owned()),
            ));
        }
        if arg.contains("://") || arg.contains('@') && arg.contains(':') {
            return Ok(Origin::Url(arg.to_owned()));
        }
        Err(format!(
            "--source {arg}: no such folder, and not a Git URL (https://…, ssh://…, git@host:path)"
        ))
    }
}

/// A checkout to read: the folder itself, or a temporary clone (deleted
/// when dropped).
#[derive(Debug)]
pub struct Checkout {
    root: PathBuf,
    _clone: Option<Repo>,
}

impl Checkout {
    /// The folder, or a clone of the URL's default branch.
    ///
    /// # Errors
    /// The clone failed (unreachable remote, authentication).
    pub async fn open(origin: &Origin) -> Result<Checkout, crate::gitops::repo::Error> {
        match origin {
            Origin::Dir(d) => Ok(Checkout {
                root: d.clone(),
                _clone: None,
            }),
            Origin::Url(u) => {
                let repo = Repo::clone_url(
                    u,
                    &CloneOptions {
                        push_commits: false,
                        ..CloneOptions::default()
                    },
                )
                .await?;
                Ok(Checkout {
                    root: repo.path().to_owned(),
                    _clone: Some(repo),
                })
            }
        }
    }

    /// The checkout's root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}
