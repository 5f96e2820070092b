//! The `infra-drift` fault: someone changes infrastructure a Flux
//! `Terraform` object manages, by hand, outside Git — `terraform apply` of
//! the object's module (from the drill's source, at the object's
//! `spec.path`) with other variable values, against the state its
//! controller keeps in the cluster (the `kubernetes` backend, as the
//! controller configures it). The controller's next reconciliation finds
//! the drift and applies Git's values again; the `converge` phase waits
//! for that ([`crate::drill::probe::infra::InfraRestored`]).

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::Value;

use super::super::context::Context;
use super::super::error::{Error as DrillError, Result};
use super::super::probe::infra::{APPLIED_BY_DRIFT, Drifted};
use crate::cluster::Cluster;
use crate::gitops::bootstrap::Source;
use crate::scenario::model::NamespacedName;
use crate::sim::flux::tofu::spec::Spec;
use crate::terraform::{Terraform, backend, module};

/// Longest the hand-made apply may take.
const APPLY_TIMEOUT: Duration = Duration::from_secs(600);
/// How long it waits for the controller's state lock.
const LOCK_WAIT: Duration = Duration::from_secs(120);

fn terraform_resource() -> ApiResource {
    ApiResource {
        group: "infra.contrib.fluxcd.io".into(),
        version: "v1alpha2".into(),
        api_version: "infra.contrib.fluxcd.io/v1alpha2".into(),
        kind: "Terraform".into(),
        plural: "terraforms".into(),
    }
}

/// Why the hand-made apply failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object read from the cluster is not JSON.
    #[error(transparent)]
    Json(serde_json::Error),
    /// Its spec does not read.
    #[error("{0}")]
    Spec(String),
    /// Its module is not in the source.
    #[error("its module {path} is not in the source repository")]
    ModuleMissing {
        /// `spec.path`.
        path: String,
    },
    /// The working copy could not be made, or Terraform failed.
    #[error(transparent)]
    Terraform(crate::terraform::Error),
    /// The backend or variables file could not be written.
    #[error(transparent)]
    Write(std::io::Error),
}

fn drift_err(object: &NamespacedName) -> impl FnOnce(Error) -> DrillError + '_ {
    move |source| DrillError::Drift {
        object: object.clone(),
        source,
    }
}

/// Applies the module of `object` by hand with `vars`; returns the
/// drifted object, whose restoration `converge` waits for.
///
/// # Errors
/// When the object or its module cannot be found, or Terraform fails.
pub(super) async fn inject(
    cx: &Context,
    cluster: &Cluster,
    source: &Source,
    object: &NamespacedName,
    vars: &BTreeMap<String, String>,
) -> Result<Drifted> {
    let _acting = cx.clock().busy();
    let api: Api<DynamicObject> =
        Api::namespaced_with(cluster.client(), &object.namespace, &terraform_resource());
    let found = api.get(&object.name).await.map_err(|source| DrillError::Kube {
        what: format!(
            "reading Terraform {object} (is the Flux Terraform controller installed, and the object in Git?)"
        ),
        source,
    })?;
    let obj = serde_json::to_value(&found)
        .map_err(Error::Json)
        .map_err(drift_err(object))?;
    let spec = Spec::read(&obj)
        .map_err(Error::Spec)
        .map_err(drift_err(object))?;
    let module_dir = source.repo().path().join(spec.module_path());
    if !module_dir.is_dir() {
        return Err(drift_err(object)(Error::ModuleMissing {
            path: spec.path.clone(),
        }));
    }
    // A working copy of the module, as a person would check it out.
    let root = cx
        .dir()
        .join(format!("drift-{}-{}", object.namespace, object.name));
    let _ = std::fs::remove_dir_all(&root);
    let dir = module::copy(&module_dir, &root)
        .map_err(Error::Terraform)
        .map_err(drift_err(object))?;
    backend::write_kubernetes_backend(
        &dir,
        &spec.secret_suffix,
        &object.namespace,
        cluster.kubeconfig(),
    )
    .map_err(Error::Write)
    .map_err(drift_err(object))?;
    let mut values = spec.vars.clone();
    values.extend(
        vars.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone()))),
    );
    backend::write_vars(&dir, &values)
        .map_err(Error::Write)
        .map_err(drift_err(object))?;
    // The controller may hold the state lock (a reconcile in flight): wait
    // for it, as a person would.
    let tf = Terraform::new(&dir, &module_dir, cx.provider.tools.clone()).lock_timeout(LOCK_WAIT);
    let ran = async {
        tf.init().await?;
        if spec.workspace != "default" {
            tf.select_workspace(&spec.workspace).await?;
        }
        tf.apply(&BTreeMap::new(), &[], APPLY_TIMEOUT).await
    }
    .await;
    let _ = std::fs::remove_dir_all(&root);
    ran.map_err(Error::Terraform).map_err(drift_err(object))?;
    let set: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    cx.timeline().operation(&format!(
        "terraform apply by hand of Terraform {object}'s module ({}) with {}, outside Git",
        spec.path,
        set.join(", ")
    ));
    Ok(Drifted {
        object: object.clone(),
        before: obj
            .pointer(APPLIED_BY_DRIFT)
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}
