//! `infra-loss`: `terraform destroy` of the module that made the cluster
//! (all of it, or `-target`s).

use super::super::error::{Error, Result};
use super::super::repeat::Drill;

pub(super) async fn inject(d: &mut Drill, targets: &[String]) -> Result<()> {
    let t = d.timeline().clone();
    let _acting = d.clock().busy();
    if d.cluster()?.terraform().is_none() {
        return Err(Error::Cluster(crate::cluster::Error::Unsupported {
            provider: d.cluster()?.provider(),
            what: "inject infra-loss (it needs provider terraform)",
        }));
    }
    // The tooling in this process stops with the infrastructure.
    if let Some(tooling) = d.tooling.take() {
        tooling.shutdown().await;
    }
    let Some(infra) = d.cluster()?.terraform() else {
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
    t.operation(&format!(
        "terraform destroy{scope} of {}: {} resource(s) destroyed ({})",
        infra.module().display(),
        destroyed.len(),
        destroyed.join(", ")
    ));
    Ok(())
}
