//! The repository `--source` names: a folder (used as it is, uncommitted
//! changes included), a Git URL cloned into a temporary folder, or an OCI
//! artifact (`oci://<registry>/<repository>[:<tag>]`, as `flux push
//! artifact` publishes a fleet) pulled and extracted into one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::gitops::mirror::Mirrors;
use crate::gitops::oci::Oci;
use crate::gitops::oci::artifact::ArtifactRef;
use crate::gitops::repo::{CloneOptions, Repo};

/// Where a source comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A folder (absolute).
    Dir(PathBuf),
    /// A Git URL.
    Url(String),
    /// An OCI artifact: its repository URL (without tag) and tag.
    Oci {
        /// `oci://<registry>/<repository>`.
        url: String,
        /// The tag (`latest` when the argument names none).
        tag: String,
    },
}

/// Why a source could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The clone failed.
    #[error(transparent)]
    Git(#[from] crate::gitops::repo::Error),
    /// The artifact could not be pulled.
    #[error("pulling the artifact {1} failed")]
    Oci(#[source] crate::gitops::oci::Error, String),
    /// No temporary folder for the artifact.
    #[error("creating a temporary folder for the artifact")]
    Folder(#[source] std::io::Error),
}

/// How long pulling an artifact may take.
const PULL_TIMEOUT: Duration = Duration::from_secs(120);

impl Origin {
    /// A folder when `arg` names an existing one, else a URL.
    ///
    /// # Errors
    /// A message when `arg` looks like a path (`./x`, `/x`, no `:`) that
    /// does not exist.
    pub fn parse(arg: &str) -> Result<Origin, String> {
        if arg.starts_with("oci://") {
            return Origin::parse_oci(arg);
        }
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
            "--source {arg}: no such folder, and not a Git URL (https://…, ssh://…, git@host:path) or an OCI artifact (oci://…)"
        ))
    }

    /// `oci://<registry>/<repository>[:<tag>]`.
    fn parse_oci(arg: &str) -> Result<Origin, String> {
        let (url, tag) = match arg.rsplit_once(':') {
            // A `:` after the last `/` is a tag (one before it is a port).
            Some((u, t)) if !t.contains('/') && u.len() > "oci:/".len() => (u, t),
            _ => (arg, "latest"),
        };
        crate::gitops::oci::Url::parse(url).map_err(|e| format!("--source {arg}: {e}"))?;
        if !crate::gitops::oci::valid_tag(tag) {
            return Err(format!("--source {arg}: {tag:?} is not an OCI tag"));
        }
        Ok(Origin::Oci {
            url: url.trim_end_matches('/').to_owned(),
            tag: tag.to_owned(),
        })
    }
}

/// A checkout to read: the folder itself, or a temporary clone (deleted
/// when dropped).
#[derive(Debug)]
pub struct Checkout {
    root: PathBuf,
    _clone: Option<Repo>,
    _pulled: Option<tempfile::TempDir>,
}

impl Checkout {
    /// The folder, a clone of the URL's default branch, or the artifact's
    /// files (through `mirrors`, else from the real registry).
    ///
    /// # Errors
    /// The clone or the pull failed (unreachable remote, authentication).
    pub async fn open(origin: &Origin, mirrors: &Mirrors) -> Result<Checkout, OpenError> {
        match origin {
            Origin::Dir(d) => Ok(Checkout {
                root: d.clone(),
                _clone: None,
                _pulled: None,
            }),
            Origin::Oci { url, tag } => {
                let dir = tempfile::Builder::new()
                    .prefix("gameday-artifact-")
                    .tempdir()
                    .map_err(OpenError::Folder)?;
                Oci::new(mirrors.clone())
                    .pull_artifact(
                        url,
                        &ArtifactRef::Tag(tag.clone()),
                        dir.path(),
                        PULL_TIMEOUT,
                    )
                    .await
                    .map_err(|e| OpenError::Oci(e, format!("{url}:{tag}")))?;
                Ok(Checkout {
                    root: dir.path().to_owned(),
                    _clone: None,
                    _pulled: Some(dir),
                })
            }
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
                    _pulled: None,
                })
            }
        }
    }

    /// The checkout's root.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oci_sources_name_a_repository_and_a_tag() {
        let oci = |url: &str, tag: &str| Origin::Oci {
            url: url.to_owned(),
            tag: tag.to_owned(),
        };
        assert_eq!(
            Origin::parse("oci://ghcr.io/acme/fleet:1.2.0"),
            Ok(oci("oci://ghcr.io/acme/fleet", "1.2.0"))
        );
        assert_eq!(
            Origin::parse("oci://ghcr.io/acme/fleet"),
            Ok(oci("oci://ghcr.io/acme/fleet", "latest"))
        );
        // A port is not a tag.
        assert_eq!(
            Origin::parse("oci://localhost:5000/fleet"),
            Ok(oci("oci://localhost:5000/fleet", "latest"))
        );
        assert_eq!(
            Origin::parse("oci://localhost:5000/fleet:v1"),
            Ok(oci("oci://localhost:5000/fleet", "v1"))
        );
        assert!(Origin::parse("oci://ghcr.io/acme/fleet:-x").is_err());
        assert!(Origin::parse("oci://ghcr.io").is_err());
    }
}
