//! Faults: what breaks, one file per fault (the way chainsaw keeps one
//! folder per operation), chosen by one exhaustive `match` in `inject`.
//! Each fault records an operation on the timeline saying exactly what was
//! done, so a report shows what the drill broke, and returns what recovery
//! must know about it (`Broke`).

mod api_outage;
mod bad_commit;
mod cluster_loss;
mod controller_loss;
mod infra_drift;
mod infra_loss;
mod namespace_loss;
mod node_loss;
mod resource_loss;

pub use self::infra_drift::Error as DriftError;
use super::context::Context;
use super::error::{Error, Result};
use super::probe::infra::Drifted;
use super::target::Target;
use crate::scenario::model::Fault;

/// What one fault broke that recovery must know about.
#[derive(Debug)]
pub(super) enum Broke {
    /// Nothing beyond what the checks see.
    Nothing,
    /// These nodes stopped.
    Nodes(Vec<String>),
    /// This commit (its SHA) is the bad one.
    Commit(String),
    /// This Terraform object's infrastructure was changed outside Git.
    Infra(Drifted),
}

/// Injects one fault, after the provider's guard rails allowed it against
/// the cluster actually in use (existing: allowed namespaces, the user's
/// confirmation).
///
/// # Errors
/// When the provider refuses the fault or it cannot be injected (an API
/// call, git, the provider).
pub(super) async fn inject(cx: &Context, target: &mut Target, fault: &Fault) -> Result<Broke> {
    if let Some(cluster) = &target.cluster {
        cluster.check_fault(fault)?;
    }
    Ok(match fault {
        Fault::ClusterLoss => {
            cluster_loss::inject(cx, target).await?;
            Broke::Nothing
        }
        Fault::NamespaceLoss { namespace } => {
            namespace_loss::inject(cx, target.cluster()?, namespace).await?;
            Broke::Nothing
        }
        Fault::ResourceLoss {
            api_version,
            kind,
            namespace,
            target: which,
        } => {
            let kind = resource_loss::Kind { api_version, kind };
            resource_loss::inject(cx, target.cluster()?, &kind, namespace.as_deref(), which)
                .await?;
            Broke::Nothing
        }
        Fault::ControllerLoss => {
            controller_loss::inject(cx, target).await?;
            Broke::Nothing
        }
        Fault::NodeLoss { count } => {
            Broke::Nodes(node_loss::inject(cx, target.cluster()?, *count).await?)
        }
        Fault::BadCommit {
            file,
            change,
            message,
        } => {
            Broke::Commit(bad_commit::inject(cx, &mut target.source, file, change, message).await?)
        }
        Fault::ApiOutage { duration } => {
            api_outage::inject(cx, target.cluster()?, *duration).await?;
            Broke::Nothing
        }
        Fault::InfraDrift { terraform, vars } => Broke::Infra(
            infra_drift::inject(cx, target.cluster()?, &target.source, terraform, vars).await?,
        ),
        Fault::InfraLoss { targets } => {
            infra_loss::inject(cx, target, targets).await?;
            Broke::Nothing
        }
    })
}

fn kube_err(what: String) -> impl FnOnce(kube::Error) -> Error {
    move |source| Error::Kube { what, source }
}
