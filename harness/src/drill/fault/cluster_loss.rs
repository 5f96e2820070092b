//! `cluster-loss`: the whole cluster is destroyed, with the GitOps tooling
//! running in this process.

use super::super::context::Context;
use super::super::error::Result;
use super::super::target::Target;

pub(super) async fn inject(cx: &Context, target: &mut Target) -> Result<()> {
    let _acting = cx.clock().busy();
    if let Some(cluster) = target.cluster.take() {
        let name = cluster.name().to_owned();
        target.shutdown_tooling().await;
        cluster.destroy(&cx.provider.cleanup).await?;
        cx.timeline().operation(&format!(
            "cluster {name} destroyed: every object, node and controller is gone"
        ));
    }
    Ok(())
}
