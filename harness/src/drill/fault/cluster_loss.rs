//! `cluster-loss`: the whole cluster is destroyed, with the GitOps tooling
//! running in this process.

use super::super::error::Result;
use super::super::repeat::Drill;

pub(super) async fn inject(d: &mut Drill) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    if let Some(cluster) = d.cluster.take() {
        let name = cluster.name().to_owned();
        if let Some(tooling) = d.tooling.take() {
            tooling.shutdown().await;
        }
        cluster.destroy(&d.cx.cleanup).await?;
        t.operation(&format!(
            "cluster {name} destroyed: every object, node and controller is gone"
        ));
    }
    Ok(())
}
