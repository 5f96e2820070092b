//! `node-loss`: worker nodes stop.

use super::super::error::Result;
use super::super::repeat::Drill;

pub(super) async fn inject(d: &mut Drill, count: u32) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    let names = d.cluster()?.lose_workers(count).await?;
    t.operation(&format!("node(s) lost: {}", names.join(", ")));
    d.lost_nodes.extend(names);
    Ok(())
}
