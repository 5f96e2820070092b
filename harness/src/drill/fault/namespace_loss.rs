//! `namespace-loss`: a namespace is deleted, with everything in it.

use kube::api::{Api, DeleteParams};

use super::super::error::Result;
use super::super::repeat::Drill;
use super::kube_err;

pub(super) async fn inject(d: &mut Drill, namespace: &str) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(d.cluster()?.client());
    api.delete(namespace, &DeleteParams::background())
        .await
        .map_err(kube_err(format!("deleting namespace {namespace}")))?;
    t.operation(&format!("namespace {namespace} deleted"));
    Ok(())
}
