//! `resource-loss`: objects of one kind are deleted, by name or by label
//! selector.

use kube::api::{Api, DeleteParams, DynamicObject, ListParams};

use super::super::error::Result;
use super::super::repeat::Drill;
use super::kube_err;
use crate::scenario::model::ResourceTarget;

pub(super) async fn inject(
    d: &mut Drill,
    api_version: &str,
    kind: &str,
    namespace: Option<&str>,
    target: &ResourceTarget,
) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    let client = d.cluster()?.client();
    let gvk = gvk(api_version, kind);
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
    t.operation(&format!(
        "{} {kind}(s) deleted{}: {}",
        names.len(),
        namespace.map(|n| format!(" in {n}")).unwrap_or_default(),
        names.join(", ")
    ));
    Ok(())
}

fn gvk(api_version: &str, kind: &str) -> kube::api::GroupVersionKind {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    kube::api::GroupVersionKind::gvk(group, version, kind)
}
