//! `infra-loss`: `terraform destroy` of the module that made the cluster
//! (all of it, or `-target`s). The cluster handle stays: a `rebuild`
//! applies the same module again.

use super::super::context::Context;
use super::super::error::{Error, Result};
use super::super::target::Target;

pub(super) async fn inject(cx: &Context, target: &mut Target, targets: &[String]) -> Result<()> {
    let _acting = cx.clock().busy();
    let cluster = target.cluster()?;
    if cluster.terraform().is_none() {
        return Err(Error::Cluster(crate::cluster::Error::Unsupported {
            provider: cluster.provider(),
            what: "inject infra-loss (it needs provider terraform)",
        }));
    }
    // The tooling in this process stops with the infrastructure.
    target.shutdown_tooling().await;
    let Some(infra) = target.cluster()?.terraform() else {
        return Ok(());
    };
    let destroyed = infra
        .destroy_infra(targets)
        .await
        .map_err(crate::cluster::Error::from)?;
    let scope = if targets.is_empty() {
        String::new()
    } else {
        format!(" -target {}", targets.join(" -target "))
    };
    cx.timeline().operation(&format!(
        "terraform destroy{scope} of {}: {} resource(s) destroyed ({})",
        infra.module().display(),
        destroyed.len(),
        destroyed.join(", ")
    ));
    Ok(())
}
