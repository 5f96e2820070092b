//! `resource-loss`: objects of one kind are deleted, by name or by label
//! selector.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use super::super::context::Context;
use super::super::error::Result;
use super::kube_err;
use crate::cluster::Cluster;
use crate::scenario::model::ResourceTarget;

/// The kind of the objects deleted.
pub(super) struct Kind<'a> {
    pub(super) api_version: &'a str,
    pub(super) kind: &'a str,
}

pub(super) async fn inject(
    cx: &Context,
    cluster: &Cluster,
    of: &Kind<'_>,
    namespace: Option<&str>,
    target: &ResourceTarget,
) -> Result<()> {
    let Kind { api_version, kind } = *of;
    let _acting = cx.clock().busy();
    let client = cluster.client();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
    let (ar, caps) = kube::discovery::pinned_kind(&client, &gvk)
        .await
        .map_err(kube_err(format!(
            "finding the resource of {api_version} {kind}"
        )))?;
    let api: Api<DynamicObject> = match (namespace, caps.scope) {
        (Some(ns), kube::discovery::Scope::Namespaced) => Api::namespaced_with(client, ns, &ar),
        _ => Api::all_with(client, &ar),
    };
    let names: Vec<String> = match target {
        ResourceTarget::Name(n) => vec![n.clone()],
        ResourceTarget::Selector(sel) => api
            .list(&ListParams::default().labels(sel))
            .await
            .map_err(kube_err(format!("listing {kind} with selector {sel}")))?
            .items
            .into_iter()
            .filter_map(|o| o.metadata.name)
            .collect(),
    };
    for n in &names {
        api.delete(n, &DeleteParams::background())
            .await
            .map_err(kube_err(format!("deleting {kind} {n}")))?;
    }
    cx.timeline().operation(&format!(
        "{} {kind}(s) deleted{}: {}",
        names.len(),
        namespace.map(|n| format!(" in {n}")).unwrap_or_default(),
        names.join(", ")
    ));
    Ok(())
}
