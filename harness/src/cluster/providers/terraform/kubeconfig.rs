//! The cluster's kubeconfig, from the module's `kubeconfigOutput` output:
//! a path relative to the module, or the kubeconfig itself (written to the
//! repeat's folder, mode 0600).

use std::path::{Path, PathBuf};

use kube::config::{KubeConfigOptions, Kubeconfig};

use super::{Error, Shared};
use crate::terraform as tf;

/// The kubeconfig the output names, or holds (then written to `files`).
pub(super) fn kubeconfig_from(
    s: &Shared,
    outputs: &tf::Outputs,
    files: &Path,
) -> Result<PathBuf, Error> {
    let wanted = &s.settings.kubeconfig_output;
    let bad = |why: String| Error::BadKubeconfig {
        module: s.settings.dir.clone(),
        output: wanted.clone(),
        why,
    };
    let value = outputs.get(wanted).ok_or_else(|| Error::MissingOutput {
        module: s.settings.dir.clone(),
        wanted: wanted.clone(),
        available: outputs.names().into_iter().map(str::to_owned).collect(),
    })?;
    let text = value.value.as_str().ok_or_else(|| {
        bad(format!(
            "expected a string (a path or a kubeconfig), got {}",
            value.value
        ))
    })?;
    if text.contains('\n') || text.trim_start().starts_with("apiVersion") {
        let path = files.join(format!("{}.kubeconfig", s.name));
        crate::sim::apiserver::kubeconfig::write(&path, text)
            .map_err(|e| bad(format!("cannot write it to {}: {e}", path.display())))?;
        return Ok(path);
    }
    let path = s.tf.dir().join(text);
    if path.is_file() {
        Ok(path)
    } else {
        Err(bad(format!(
            "it names {}, which is not a file",
            path.display()
        )))
    }
}

pub(super) async fn client_from_file(s: &Shared, path: &Path) -> Result<kube::Client, Error> {
    let bad = |why: String| Error::BadKubeconfig {
        module: s.settings.dir.clone(),
        output: s.settings.kubeconfig_output.clone(),
        why,
    };
    let kc = Kubeconfig::read_from(path)
        .map_err(|e| bad(format!("{} is not a kubeconfig: {e}", path.display())))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .map_err(|e| bad(format!("{}: {e}", path.display())))?;
    kube::Client::try_from(config).map_err(|e| bad(format!("{}: {e}", path.display())))
}
