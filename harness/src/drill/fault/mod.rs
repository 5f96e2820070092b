//! Faults: what breaks, injected in the order the scenario lists them, one
//! file per fault (the way chainsaw keeps one folder per operation) and one
//! exhaustive `match` choosing among them. Each fault records an operation
//! on the timeline saying exactly what was done, so a report shows what the
//! drill broke.

mod api_outage;
mod bad_commit;
mod cluster_loss;
mod controller_loss;
mod infra_drift;
mod infra_loss;
mod namespace_loss;
mod node_loss;
mod resource_loss;

use super::error::{Error, Result};
use super::repeat::Drill;
use crate::scenario::model::Fault;

/// Injects every fault of the scenario's disaster.
///
/// # Errors
/// When a fault cannot be injected (an API call, git, the provider).
pub(super) async fn inject_all(d: &mut Drill) -> Result<()> {
    let faults = d.scenario().disaster.clone();
    for f in &faults {
        inject(d, f).await?;
    }
    Ok(())
}

fn kube_err(what: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}

async fn inject(d: &mut Drill, f: &Fault) -> Result<()> {
    // The provider's guard rails, against the cluster actually in use
    // (existing: allowed namespaces, the user's confirmation).
    if let Some(cluster) = &d.cluster {
        cluster.check_fault(f)?;
    }
    match f {
        Fault::ClusterLoss => cluster_loss::inject(d).await,
        Fault::NamespaceLoss { namespace } => namespace_loss::inject(d, namespace).await,
        Fault::ResourceLoss {
            api_version,
            kind,
            namespace,
            target,
        } => resource_loss::inject(d, api_version, kind, namespace.as_deref(), target).await,
        Fault::ControllerLoss => controller_loss::inject(d).await,
        Fault::NodeLoss { count } => node_loss::inject(d, *count).await,
        Fault::BadCommit {
            file,
            change,
            message,
        } => bad_commit::inject(d, file, change, message).await,
        Fault::ApiOutage { duration } => api_outage::inject(d, *duration).await,
        Fault::InfraDrift { terraform, vars } => {
            let _acting = d.clock().busy();
            let what = infra_drift::inject(d, terraform, vars).await?;
            d.timeline().operation(&what);
            Ok(())
        }
        Fault::InfraLoss { targets } => infra_loss::inject(d, targets).await,
    }
}
