//! Operating a Flux that runs on a cluster, once bootstrapped (or found
//! there): is it bootstrapped at all (to adopt it), request a
//! reconciliation now (as `flux reconcile … --with-source` does), and
//! remove its controllers the way `flux uninstall` does (the
//! `controller-loss` fault).

use std::fmt;

use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::json;

use super::super::{Error, Result};
use crate::clock::Clock;
use crate::flux::install::NAMESPACE;

/// A Flux running on one cluster (see the module docs).
#[derive(Clone)]
pub struct Control {
    client: kube::Client,
    clock: Clock,
}

impl fmt::Debug for Control {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Control").finish_non_exhaustive()
    }
}

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn kube_err(what: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

impl Control {
    /// Flux on the cluster `client` talks to, whose clock is `clock`.
    pub fn new(client: kube::Client, clock: Clock) -> Control {
        Control { client, clock }
    }

    /// True when `flux-system/flux-system` exists (a `flux bootstrap`ped
    /// cluster); `cluster` names it in errors.
    ///
    /// # Errors
    /// [`Error::Kube`] when the API call fails (missing Flux CRDs are a
    /// plain `false`).
    pub async fn is_bootstrapped(&self, cluster: &str) -> Result<bool> {
        let ar = resource(
            "kustomize.toolkit.fluxcd.io",
            "v1",
            "Kustomization",
            "kustomizations",
        );
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), NAMESPACE, &ar);
        match api.get_opt("flux-system").await {
            Ok(found) => Ok(found.is_some()),
            // No Flux CRDs at all.
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(false),
            Err(source) => Err(Error::Kube {
                what: format!("looking for the Flux bootstrap of cluster {cluster}"),
                source,
            }),
        }
    }

    /// Requests reconciliation now: the `reconcile.fluxcd.io/requestedAt`
    /// annotation (the cluster's time) on every GitRepository,
    /// OCIRepository and Kustomization.
    ///
    /// # Errors
    /// [`Error::Kube`] when listing or annotating fails.
    pub async fn request_reconciliation(&self) -> Result<()> {
        let now = self
            .clock
            .now()
            .strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
            .to_string();
        let patch = json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": now}}});
        for (group, version, plural) in [
            ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
            ("source.toolkit.fluxcd.io", "v1", "ocirepositories"),
            ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
        ] {
            let ar = resource(group, version, "", plural);
            let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
            let list = match api.list(&Default::default()).await {
                Ok(l) => l,
                // A Flux older than OCIRepository v1 does not serve it.
                Err(kube::Error::Api(s)) if s.code == 404 && plural == "ocirepositories" => {
                    continue;
                }
                Err(e) => {
                    return Err(kube_err(format!(
                        "listing {plural} to request reconciliation"
                    ))(e));
                }
            };
            for o in list.items {
                let (Some(ns), Some(name)) = (o.metadata.namespace, o.metadata.name) else {
                    continue;
                };
                let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), &ns, &ar);
                api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map_err(kube_err(format!(
                        "requesting reconciliation of {plural} {ns}/{name}"
                    )))?;
            }
        }
        Ok(())
    }

    /// Deletes Flux the way `flux uninstall` does it: the controllers'
    /// Deployments first (so no controller puts a finalizer back), then
    /// the finalizers of the Flux objects, so the workloads they applied
    /// stay (orphaned) instead of being pruned, then the namespace. A
    /// finalizer a controller still added in between is removed once more
    /// after the namespace is deleted, so it never hangs `Terminating`.
    /// Returns what was done.
    ///
    /// # Errors
    /// [`Error::Kube`] when an API call fails.
    pub async fn uninstall(&self) -> Result<String> {
        let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
            Api::namespaced(self.client.clone(), NAMESPACE);
        deployments
            .delete_collection(
                &DeleteParams::background(),
                &kube::api::ListParams::default().labels("app.kubernetes.io/part-of=flux"),
            )
            .await
            .map_err(kube_err(format!(
                "deleting the Flux controllers in {NAMESPACE}"
            )))?;
        self.unfinalize().await?;
        let ns: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        ns.delete(NAMESPACE, &DeleteParams::background())
            .await
            .map_err(kube_err(format!("deleting namespace {NAMESPACE}")))?;
        self.unfinalize().await?;
        Ok(format!(
            "namespace {NAMESPACE} deleted (Flux controllers, sources and Kustomizations gone; applied workloads left running)"
        ))
    }

    /// Removes the finalizers of every Flux object in Flux's namespace.
    async fn unfinalize(&self) -> Result<()> {
        let unfinalize = json!({"metadata": {"finalizers": null}});
        for (group, version, plural) in [
            ("kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
            ("source.toolkit.fluxcd.io", "v1", "gitrepositories"),
            ("source.toolkit.fluxcd.io", "v1", "ocirepositories"),
            ("infra.contrib.fluxcd.io", "v1alpha2", "terraforms"),
        ] {
            let ar = resource(group, version, "", plural);
            let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), NAMESPACE, &ar);
            let list = match api.list(&Default::default()).await {
                Ok(l) => l,
                // Not installed (the Terraform controller is optional).
                Err(kube::Error::Api(s)) if s.code == 404 => continue,
                Err(source) => {
                    return Err(Error::Kube {
                        what: format!("listing {plural} in {NAMESPACE}"),
                        source,
                    });
                }
            };
            for o in list.items {
                let Some(name) = o.metadata.name else {
                    continue;
                };
                if o.metadata.finalizers.as_ref().is_none_or(Vec::is_empty) {
                    continue;
                }
                match api
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&unfinalize))
                    .await
                {
                    // Gone in between (its namespace is being deleted).
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(source) => {
                        return Err(Error::Kube {
                            what: format!("removing the finalizers of {plural} {name}"),
                            source,
                        });
                    }
                }
            }
        }
        Ok(())
    }
}
