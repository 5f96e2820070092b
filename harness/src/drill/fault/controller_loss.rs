//! `controller-loss`: the GitOps controller goes away (Flux's namespace is
//! deleted, or the direct applier stops); what it applied keeps running.

use super::super::context::Context;
use super::super::error::{Error, Result};
use super::super::target::Target;

pub(super) async fn inject(cx: &Context, target: &mut Target) -> Result<()> {
    let _acting = cx.clock().busy();
    let what = match target.tooling.as_mut() {
        Some(tooling) => tooling.lose_controller().await.map_err(Error::Tooling)?,
        None => "no GitOps controller was running".to_owned(),
    };
    cx.timeline().operation(&what);
    Ok(())
}
