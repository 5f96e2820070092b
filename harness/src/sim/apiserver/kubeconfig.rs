//! The kubeconfig of a simulated cluster: context, cluster and user named
//! `sim-<name>`, the CA and the token (or plain http without either).

use std::io::Write;
use std::path::Path;

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
}
