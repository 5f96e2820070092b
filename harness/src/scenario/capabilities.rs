//! What goes with what: which faults each provider can inject, which
//! recovery methods make sense after each fault, and which timed phases a
//! recovery has. One table each, so the rules are read in one place.

use super::model::{BootstrapMethod, Fault, FaultKind, Phase, Provider, RecoveryMethod};

/// The faults a provider can inject.
pub fn provider_faults(provider: Provider) -> &'static [FaultKind] {
    use FaultKind::*;
    match provider {
        // The simulator and kind own the whole cluster, nodes and API
        // server included; the simulator also emulates Flux's Terraform
        // controller, whose infrastructure infra-drift changes.
        Provider::Sim => &[
            ClusterLoss,
            NamespaceLoss,
            ResourceLoss,
            ControllerLoss,
            NodeLoss,
            BadCommit,
            ApiOutage,
            InfraDrift,
        ],
        Provider::Kind => &[
            ClusterLoss,
            NamespaceLoss,
            ResourceLoss,
            ControllerLoss,
            NodeLoss,
            BadCommit,
            ApiOutage,
        ],
        // Terraform owns the infrastructure, not the nodes or the API server process.
        Provider::Terraform => &[
            ClusterLoss,
            InfraLoss,
            NamespaceLoss,
            ResourceLoss,
            ControllerLoss,
            BadCommit,
        ],
        // Someone else's cluster: only what can be restored from Git, inside allowed namespaces.
        Provider::Existing => &[NamespaceLoss, ResourceLoss, ControllerLoss, BadCommit],
    }
}

/// Why a provider cannot inject a fault, for error messages.
pub fn why_not(provider: Provider, fault: FaultKind) -> &'static str {
    match (provider, fault) {
        (
            Provider::Existing,
            FaultKind::ClusterLoss | FaultKind::NodeLoss | FaultKind::ApiOutage,
        ) => "gameday never destroys a cluster, node or API server it did not create",
        (_, FaultKind::InfraLoss) => {
            "infra-loss destroys Terraform-managed infrastructure; use provider terraform"
        }
        (_, FaultKind::InfraDrift) => {
            "infra-drift changes infrastructure a Flux Terraform controller manages; gameday knows one runs only in its simulator, which emulates it (provider sim)"
        }
        (Provider::Terraform, FaultKind::NodeLoss | FaultKind::ApiOutage) => {
            "a Terraform module gives gameday no handle on individual nodes or the API server process"
        }
        _ => "the provider has no way to inject it",
    }
}

/// Why `provider` cannot run scenario `s` at all — a fault it cannot
/// inject, mirrors it cannot apply — or None. What `gameday run --provider` skips.
pub fn first_impossible(s: &super::model::Scenario, provider: Provider) -> Option<String> {
    if !s.mirrors.is_empty() && provider != Provider::Sim {
        return Some(format!(
            "provider {} cannot use spec.mirrors: the real Flux fetches the real URLs (mirrors stand in for them in the simulator only); remove spec.mirrors to drill with the real sources",
            provider.name()
        ));
    }
    s.disaster
        .iter()
        .map(Fault::kind)
        .find(|f| !provider_faults(provider).contains(f))
        .map(|f| {
            format!(
                "provider {} cannot inject {f}: {}",
                provider.name(),
                why_not(provider, f)
            )
        })
}

/// The recovery methods that make sense after a fault.
pub fn fault_recoveries(fault: FaultKind) -> &'static [&'static str] {
    match fault {
        FaultKind::ClusterLoss | FaultKind::InfraLoss => &["rebuild"],
        FaultKind::BadCommit => &["git-revert", "manual"],
        FaultKind::ControllerLoss => &["rebuild", "manual"],
        FaultKind::NamespaceLoss
        | FaultKind::ResourceLoss
        | FaultKind::NodeLoss
        | FaultKind::ApiOutage
        | FaultKind::InfraDrift => &["reconcile", "manual"],
    }
}

/// Why a recovery does not fit a fault, for error messages.
pub fn recovery_hint(fault: FaultKind) -> &'static str {
    match fault {
        FaultKind::ClusterLoss | FaultKind::InfraLoss => {
            "nothing is left to reconcile or revert: a lost cluster is rebuilt from Git"
        }
        FaultKind::BadCommit => "a bad commit is undone in Git (git-revert), or by hand (manual)",
        FaultKind::ControllerLoss => {
            "without its GitOps controller nothing reconciles: bootstrap again (rebuild), or by hand (manual)"
        }
        FaultKind::InfraDrift => {
            "the Terraform controller restores what Git says at its next reconciliation (reconcile), or people do (manual)"
        }
        _ => "the GitOps loop repairs it (reconcile), or people do (manual)",
    }
}

/// The timed recovery phases, in order, for a method after the given faults
/// on a provider.
pub fn recovery_phases(
    method: &RecoveryMethod,
    faults: &[FaultKind],
    provider: Provider,
) -> Vec<Phase> {
    let cluster_gone = faults
        .iter()
        .any(|f| matches!(f, FaultKind::ClusterLoss | FaultKind::InfraLoss));
    match method {
        RecoveryMethod::Rebuild => {
            let mut phases = Vec::new();
            if cluster_gone {
                if provider == Provider::Terraform {
                    phases.extend([Phase::Infra, Phase::ClusterReady]);
                } else {
                    phases.push(Phase::Provision);
                }
            }
            phases.extend([Phase::Bootstrap, Phase::Converge, Phase::Healthy]);
            phases
        }
        RecoveryMethod::Reconcile { .. } => vec![Phase::Converge, Phase::Healthy],
        RecoveryMethod::GitRevert => vec![Phase::Detect, Phase::Converge, Phase::Healthy],
        RecoveryMethod::Manual { .. } => vec![Phase::Healthy],
    }
}

/// The Flux namespace: what `controller-loss` deletes under Flux.
pub const FLUX_NAMESPACE: &str = "flux-system";

/// What a fault writes to in the cluster: what the `existing` provider's
/// `allowNamespaces` is checked against (at validation and again before the
/// fault is injected).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultScope {
    /// Nothing in the cluster (a commit to the source repository, or the
    /// in-process direct reconciler).
    Nothing,
    /// Objects in one namespace (or the namespace itself).
    Namespace(String),
    /// Objects in every namespace, or cluster-scoped objects: a
    /// `resource-loss` without a namespace.
    AllNamespaces,
    /// The cluster itself: its nodes, API server or infrastructure.
    Cluster,
}

/// The scope of a fault under a bootstrap method.
pub fn fault_scope(fault: &Fault, bootstrap: &BootstrapMethod) -> FaultScope {
    match fault {
        Fault::ClusterLoss
        | Fault::NodeLoss { .. }
        | Fault::ApiOutage { .. }
        | Fault::InfraLoss { .. } => FaultScope::Cluster,
        Fault::NamespaceLoss { namespace } => FaultScope::Namespace(namespace.clone()),
        Fault::ResourceLoss { namespace, .. } => match namespace {
            Some(ns) => FaultScope::Namespace(ns.clone()),
            None => FaultScope::AllNamespaces,
        },
        Fault::ControllerLoss => match bootstrap {
            BootstrapMethod::Flux(_) => FaultScope::Namespace(FLUX_NAMESPACE.to_owned()),
            BootstrapMethod::Direct(_) => FaultScope::Nothing,
        },
        Fault::BadCommit { .. } => FaultScope::Nothing,
        Fault::InfraDrift { terraform, .. } => FaultScope::Namespace(terraform.namespace.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_is_possible_somewhere_and_recoverable() {
        for fault in FaultKind::ALL {
            let providers = [
                Provider::Sim,
                Provider::Kind,
                Provider::Terraform,
                Provider::Existing,
            ];
            assert!(
                providers
                    .iter()
                    .any(|p| provider_faults(*p).contains(&fault)),
                "{fault} has no provider"
            );
            assert!(!fault_recoveries(fault).is_empty());
        }
    }

    #[test]
    fn existing_refuses_destruction_of_the_cluster() {
        for f in [
            FaultKind::ClusterLoss,
            FaultKind::NodeLoss,
            FaultKind::ApiOutage,
        ] {
            assert!(!provider_faults(Provider::Existing).contains(&f));
        }
    }

    #[test]
    fn terraform_splits_provision() {
        let phases = recovery_phases(
            &RecoveryMethod::Rebuild,
            &[FaultKind::InfraLoss],
            Provider::Terraform,
        );
        assert_eq!(
            phases,
            [
                Phase::Infra,
                Phase::ClusterReady,
                Phase::Bootstrap,
                Phase::Converge,
                Phase::Healthy
            ]
        );
        let phases = recovery_phases(
            &RecoveryMethod::Rebuild,
            &[FaultKind::ControllerLoss],
            Provider::Sim,
        );
        assert_eq!(phases, [Phase::Bootstrap, Phase::Converge, Phase::Healthy]);
    }
}
