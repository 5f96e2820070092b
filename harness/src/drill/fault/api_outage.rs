//! `api-outage`: the API server is unreachable for a while, then back.

use std::time::Duration;

use super::super::context::Context;
use super::super::error::Result;
use crate::cluster::Cluster;

pub(super) async fn inject(cx: &Context, cluster: &Cluster, duration: Duration) -> Result<()> {
    let t = cx.timeline();
    {
        let _acting = cx.clock().busy();
        cluster.stop_api().await?;
    }
    t.operation(&format!(
        "API server unreachable for {}",
        crate::scenario::duration::format_duration(duration)
    ));
    // The API comes back while the harness holds the clock again (the
    // sleep's guard), at exactly the end of the outage.
    let acting = cx.clock().sleep(duration).await;
    cluster.start_api().await?;
    drop(acting);
    t.operation("API server reachable again");
    Ok(())
}
