//! `api-outage`: the API server is unreachable for a while, then back.

use std::time::Duration;

use super::super::error::Result;
use super::super::repeat::Drill;

pub(super) async fn inject(d: &mut Drill, duration: Duration) -> Result<()> {
    let t = d.timeline().clone();
    let cluster = d.cluster()?;
    {
        let _acting = d.clock().busy();
        cluster.stop_api().await?;
    }
    t.operation(&format!(
        "API server unreachable for {}",
        crate::scenario::duration::format_duration(duration)
    ));
    // The outage is simulated time passing; the API comes back while the
    // harness still holds the clock, so nothing happens in between.
    let acting = d.clock().sleep(duration).await;
    cluster.start_api().await?;
    drop(acting);
    t.operation("API server reachable again");
    Ok(())
}
