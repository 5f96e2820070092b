//! `namespace-loss`: a namespace is deleted, with everything in it.

use kube::api::{Api, DeleteParams};

use super::super::context::Context;
use super::super::error::Result;
use super::kube_err;
use crate::cluster::Cluster;

pub(super) async fn inject(cx: &Context, cluster: &Cluster, namespace: &str) -> Result<()> {
    let _acting = cx.clock().busy();
    let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(cluster.client());
    api.delete(namespace, &DeleteParams::background())
        .await
        .map_err(kube_err(format!("deleting namespace {namespace}")))?;
    cx.timeline()
        .operation(&format!("namespace {namespace} deleted"));
    Ok(())
}
