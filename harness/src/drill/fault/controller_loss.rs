//! `controller-loss`: the GitOps controller goes away (Flux's namespace is
//! deleted, or the direct applier stops); what it applied keeps running.

use super::super::error::Result;
use super::super::repeat::Drill;

pub(super) async fn inject(d: &mut Drill) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    let what = match d.tooling.as_mut() {
        Some(tooling) => tooling.lose_controller(d.cluster.as_ref()).await?,
        None => "no GitOps controller was running".to_owned(),
    };
    t.operation(&what);
    Ok(())
}
