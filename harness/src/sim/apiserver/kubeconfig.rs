//! The kubeconfig of a simulated cluster: context, cluster and user named
//! `sim-<name>`, the CA and the token (or plain http without either).

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::sim::{Error, Result};

/// What the kubeconfig needs to say.
#[derive(Debug, Clone)]
pub struct KubeconfigSpec<'a> {
    /// Cluster name (`sim-<name>` is the context).
    pub name: &'a str,
    /// `https://127.0.0.1:<port>` or `http://...`.
    pub server: &'a str,
    /// CA PEM (https only).
    pub ca_pem: Option<&'a str>,
    /// Bearer token (https only).
    pub token: Option<&'a str>,
}

/// Renders the kubeconfig YAML.
pub fn render(spec: &KubeconfigSpec<'_>) -> String {
    let ctx = format!("sim-{}", spec.name);
    let ca = spec
        .ca_pem
        .map(|pem| {
            format!(
                "\n    certificate-authority-data: {}",
                base64::engine::general_purpose::STANDARD.encode(pem)
            )
        })
        .unwrap_or_default();
    let user = match spec.token {
        Some(t) => format!("\n    token: {t}"),
        None => " {}".to_owned(),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {ctx}\n  cluster:\n    server: {server}{ca}\ncontexts:\n- name: {ctx}\n  context:\n    cluster: {ctx}\n    user: {ctx}\n    namespace: default\ncurrent-context: {ctx}\nusers:\n- name: {ctx}\n  user:{user}\npreferences: {{}}\n",
        server = spec.server
    )
}

/// Writes `yaml` to `path` with mode 0600 (created or truncated).
///
/// # Errors
/// [`Error::Kubeconfig`] on any I/O failure.
pub fn write(path: &Path, yaml: &str) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let err = |source| Error::Kubeconfig {
        path: path.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    // An existing file keeps its mode on open: tighten it explicitly.
    f.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(err)?;
    f.write_all(yaml.as_bytes()).map_err(err)?;
    Ok(())
}

/// The kubeconfig file `gameday sim serve` writes, claimed before the
/// cluster starts and given back on exit.
///
/// The rules: a file that exists is refused unless `force`; with `force`
/// its content is first copied to `<file>.gameday-backup` and put back on
/// exit (so a killed process still leaves the original next to it); a
/// missing parent folder is an error, never created. On exit gameday
/// removes (or restores) the file only while it still holds what gameday
/// wrote: a file someone changed meanwhile is left alone.
#[derive(Debug)]
pub struct Claimed {
    path: PathBuf,
    backup: Option<PathBuf>,
    written: Option<String>,
}

/// The backup of a file `sim serve --force` overwrites.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".gameday-backup");
    PathBuf::from(s)
}

impl Claimed {
    /// Checks `path` may be written, and with `force` backs up the file
    /// that is there.
    ///
    /// # Errors
    /// [`Error::KubeconfigExists`] (no `force`, or a backup from an
    /// earlier run is still there), [`Error::KubeconfigFolder`] (the
    /// folder does not exist), [`Error::Kubeconfig`] (the backup failed).
    pub fn new(path: &Path, force: bool) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(Error::KubeconfigFolder {
                path: path.to_owned(),
                dir: dir.to_owned(),
            });
        }
        let exists = std::fs::symlink_metadata(path).is_ok();
        let backup = backup_path(path);
        if exists && std::fs::symlink_metadata(&backup).is_ok() {
            return Err(Error::KubeconfigExists {
                path: path.to_owned(),
                fix: format!(
                    "{} is an earlier backup of it: put it back (or remove it) first",
                    backup.display()
                ),
            });
        }
        if exists && !force {
            return Err(Error::KubeconfigExists {
                path: path.to_owned(),
                fix: "pass --force to replace it until gameday exits (it is backed up and put back), or choose another --kubeconfig".to_owned(),
            });
        }
        let backup = if exists {
            std::fs::copy(path, &backup).map_err(|source| Error::Kubeconfig {
                path: backup.clone(),
                source,
            })?;
            Some(backup)
        } else {
            None
        };
        Ok(Self {
            path: path.to_owned(),
            backup,
            written: None,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `yaml` (mode 0600).
    ///
    /// # Errors
    /// [`Error::Kubeconfig`] on any I/O failure.
    pub fn write(&mut self, yaml: &str) -> Result<()> {
        write(&self.path, yaml)?;
        self.written = Some(yaml.to_owned());
        Ok(())
    }

    /// Gives the file back: the original restored from its backup, or the
    /// file removed — only while it still holds what [`Claimed::write`]
    /// wrote. Returns what was done, for the log.
    pub fn release(self) -> Released {
        let current = std::fs::read_to_string(&self.path).ok();
        let ours = match (&self.written, &current) {
            (Some(w), Some(c)) => w == c,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if !ours && current.is_some() {
            return Released::Changed {
                backup: self.backup,
            };
        }
        match self.backup {
            Some(backup) => match std::fs::rename(&backup, &self.path) {
                Ok(()) => Released::Restored,
                Err(e) => Released::Failed(e.to_string()),
            },
            None if current.is_some() => match std::fs::remove_file(&self.path) {
                Ok(()) => Released::Removed,
                Err(e) => Released::Failed(e.to_string()),
            },
            None => Released::Removed,
        }
    }
}

/// What [`Claimed::release`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Released {
    /// The file gameday created is gone.
    Removed,
    /// The file that was there before is back.
    Restored,
    /// Someone changed the file since gameday wrote it: left as it is (and
    /// the backup, if any, too).
    Changed {
        /// The original's backup, still there.
        backup: Option<PathBuf>,
    },
    /// Removing or restoring failed.
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_as_a_kubeconfig() {
        let y = render(&KubeconfigSpec {
            name: "t",
            server: "https://127.0.0.1:1",
            ca_pem: Some("PEM"),
            token: Some("tok"),
        });
        let k = kube::config::Kubeconfig::from_yaml(&y).unwrap();
        assert_eq!(k.current_context.as_deref(), Some("sim-t"));
        assert_eq!(
            k.auth_infos[0]
                .auth_info
                .as_ref()
                .unwrap()
                .token
                .as_ref()
                .map(|_| ()),
            Some(())
        );
        let y = render(&KubeconfigSpec {
            name: "t",
            server: "http://127.0.0.1:1",
            ca_pem: None,
            token: None,
        });
        assert!(kube::config::Kubeconfig::from_yaml(&y).is_ok());
    }

    #[test]
    fn written_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k/config");
        write(&p, "x").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn an_existing_file_is_refused_without_force() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, "mine").unwrap();
        let e = Claimed::new(&p, false).unwrap_err().to_string();
        assert!(e.contains("already exists") && e.contains("--force"), "{e}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
    }

    #[test]
    fn force_restores_the_original_on_release() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        std::fs::write(&p, "mine").unwrap();
        let mut c = Claimed::new(&p, true).unwrap();
        c.write("sim").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "sim");
        assert_eq!(std::fs::read_to_string(backup_path(&p)).unwrap(), "mine");
        assert_eq!(c.release(), Released::Restored);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "mine");
        assert!(!backup_path(&p).exists());
    }

    #[test]
    fn a_file_changed_since_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config");
        let mut c = Claimed::new(&p, false).unwrap();
        c.write("sim").unwrap();
        std::fs::write(&p, "edited by the user").unwrap();
        assert_eq!(c.release(), Released::Changed { backup: None });
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "edited by the user");
    }

    #[test]
    fn a_missing_folder_is_an_error_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope/config");
        let e = Claimed::new(&p, false).unwrap_err().to_string();
        assert!(
            e.contains("does not exist") && e.contains("mkdir -p"),
            "{e}"
        );
        assert!(!dir.path().join("nope").exists());
    }
}
