//! Where Terraform runs: a fresh copy of the module of the source's
//! artifact for each reconcile (`<work dir>/<namespace>/<name>/`, as the
//! real controller's runner works in a fresh temporary folder), with the
//! `kubernetes` backend and the variables written; and `terraform
//! destroy` when a `Terraform` object is deleted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::spec::Spec;
use super::{COMMAND_TIMEOUT, TofuController};
use crate::sim::storage::store::ObjectRef;
use crate::terraform::{self as tf, Terraform, backend};

/// A fresh working copy of the module of `tree/<spec.path>`, with the
/// backend and the variables written; Terraform in it.
///
/// # Errors
/// The module path is missing from the artifact, or the copy, backend or
/// variables cannot be written (the message the status reports).
pub fn workdir(
    ctl: &TofuController,
    tree: &Path,
    spec: &Spec,
    ns: &str,
    name: &str,
) -> Result<Terraform, String> {
    let module = tree.join(spec.module_path());
    if !module.is_dir() {
        return Err(format!(
            "terraform path not found: stat {}: no such file or directory",
            spec.path
        ));
    }
    let root: PathBuf = ctl.work.join(ns).join(name);
    let _ = std::fs::remove_dir_all(&root);
    let dir = tf::module::copy(&module, &root).map_err(|e| e.to_string())?;
    backend::write_kubernetes_backend(&dir, &spec.secret_suffix, ns, &ctl.kubeconfig)
        .and_then(|()| backend::write_vars(&dir, &spec.vars))
        .map_err(|e| format!("cannot write the backend and variables: {e}"))?;
    Ok(Terraform::new(dir, spec.path.clone(), ctl.tools.clone()))
}

/// The failure's text: the command's last lines, one message.
pub fn text(e: &tf::Error) -> String {
    crate::error_chain::one_line(e)
}

/// Deleting the object: `terraform destroy` of what it applied when
/// `destroyResourcesOnDeletion`, best effort (a failure is logged: the
/// finalizer goes anyway, so the object never sticks).
pub async fn destroy(ctl: &TofuController, obj: &Value, ns: &str, name: &str) {
    let Ok(spec) = Spec::read(obj) else { return };
    if !spec.destroy_on_deletion {
        return;
    }
    let tree = ctl
        .store
        .get(&ObjectRef::namespaced(
            crate::sim::flux::source::gvr(),
            &spec.source.namespace,
            &spec.source.name,
        ))
        .ok()
        .and_then(|s| {
            s.pointer("/status/artifact/path")
                .and_then(Value::as_str)
                .and_then(|p| ctl.artifacts.tree(p))
        });
    let Some(tree) = tree else { return };
    let destroyed = match workdir(ctl, &tree, &spec, ns, name) {
        Ok(tf) => match tf.init().await {
            Ok(()) => tf
                .destroy(&BTreeMap::new(), &[], COMMAND_TIMEOUT)
                .await
                .map_err(|e| text(&e)),
            Err(e) => Err(text(&e)),
        },
        Err(e) => Err(e),
    };
    if let Err(e) = destroyed {
        tracing::warn!(terraform = %format!("{ns}/{name}"), error = %e, "terraform destroy on deletion failed");
    }
}
