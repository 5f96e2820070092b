//! `node-loss`: worker nodes stop; returns their names (pods on them serve
//! nothing, whatever their status still says).

use super::super::context::Context;
use super::super::error::Result;
use crate::cluster::Cluster;

pub(super) async fn inject(cx: &Context, cluster: &Cluster, count: u32) -> Result<Vec<String>> {
    let _acting = cx.clock().busy();
    let names = cluster.lose_workers(count).await?;
    cx.timeline()
        .operation(&format!("node(s) lost: {}", names.join(", ")));
    Ok(names)
}
