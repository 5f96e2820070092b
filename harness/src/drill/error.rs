//! Why a repeat of a drill stopped. Errors of the layers below are kept as
//! `#[source]`s, so the rendered chain ([`crate::error_chain`]) says what
//! failed all the way down.

use crate::report::tree::Status;

/// An error that ends a repeat. [`Error::status`] says whether the drill
/// *missed its objective* (failed: it ran, the cluster did not recover in
/// time) or *could not be carried out* (error: a provider or tool failed).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cluster operation failed.
    #[error(transparent)]
    Cluster(#[from] crate::cluster::Error),
    /// The drill needed the cluster between its loss and its rebuild.
    #[error("bootstrap failed: the cluster is gone")]
    ClusterGone,
    /// A wait before the disaster did not end: the drill cannot start from
    /// a healthy cluster.
    #[error("the cluster never reached its steady state before the disaster")]
    NotSteady(#[source] crate::drill::probe::observer::Error),
    /// The direct applier never applied the source before the disaster:
    /// an object of it cannot be applied (no such kind, no CRD, rejected
    /// by the API).
    #[error("the source never reached its steady state before the disaster")]
    NeverApplied(#[source] crate::gitops::bootstrap::Error),
    /// The steady state does not cover the source: it renders nothing,
    /// nothing was applied, or the pre-disaster snapshot misses what was.
    #[error("the steady state does not cover the source: {message}")]
    NotCovered {
        /// What is missing, in a sentence.
        message: String,
        /// Each object concerned, one line each.
        reasons: Vec<String>,
    },
    /// The cluster's nodes did not become Ready: the provider's failure,
    /// not the source's.
    #[error("the cluster's nodes never became Ready")]
    NodesNotReady(#[source] crate::drill::probe::observer::Error),
    /// A recovery phase did not complete within the recovery timeout.
    #[error("recovery did not complete")]
    NotRecovered(#[source] crate::drill::probe::observer::Error),
    /// The direct applier did not apply the source again within the
    /// recovery timeout.
    #[error("recovery did not complete")]
    NotReapplied(#[source] crate::gitops::bootstrap::Error),
    /// A wait failed for another reason (discovery).
    #[error(transparent)]
    Wait(crate::drill::probe::observer::Error),
    /// The Git source could not be prepared, served or changed.
    #[error(transparent)]
    Source(#[from] crate::gitops::bootstrap::source::Error),
    /// Bootstrapping the GitOps tooling failed.
    #[error("bootstrap failed")]
    Bootstrap(#[source] crate::gitops::bootstrap::Error),
    /// A cluster gameday did not create runs no Flux to adopt.
    #[error(
        "bootstrap failed: cluster {cluster} has no Flux bootstrap (Kustomization {}/flux-system): gameday does not install Flux on a cluster it did not create; run `flux bootstrap` there first, or use bootstrap.method: direct",
        crate::flux::install::NAMESPACE
    )]
    NoFluxToAdopt {
        /// The cluster.
        cluster: String,
    },
    /// The GitOps tooling could not do what the drill asked (look for
    /// Flux, request a reconciliation, lose its controller).
    #[error(transparent)]
    Tooling(crate::gitops::bootstrap::Error),
    /// A `bad-commit` names a field path that does not parse.
    #[error("bootstrap failed: bad-commit: field path {path:?}")]
    FieldPath {
        /// The path as written.
        path: String,
        /// Why it does not parse.
        #[source]
        source: crate::gitops::yaml::path::PathError,
    },
    /// A change by hand (a `setup` step) failed.
    #[error(transparent)]
    ByHand(#[from] crate::gitops::by_hand::Error),
    /// The `infra-drift` fault failed.
    #[error("infra-drift of Terraform {object}")]
    Drift {
        /// The `Terraform` object whose module was applied by hand.
        object: crate::scenario::model::NamespacedName,
        /// Why.
        #[source]
        source: crate::drill::fault::DriftError,
    },
    /// A Kubernetes API call failed.
    #[error("{what}")]
    Kube {
        /// What was being done.
        what: String,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// Taking a snapshot failed.
    #[error(transparent)]
    Snapshot(#[from] crate::drill::snapshot::Error),
    /// The run was interrupted.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    /// Failed (objective missed) or error (could not be carried out).
    pub fn status(&self) -> Status {
        match self {
            Error::NotRecovered(_) | Error::NotReapplied(_) => Status::Failed,
            // Findings about the repository: the drill never had a steady
            // state to break.
            Error::NotSteady(crate::drill::probe::observer::Error::TimedOut { .. })
            | Error::NeverApplied(_)
            | Error::NotCovered { .. } => Status::Unrecoverable,
            Error::Source(crate::gitops::bootstrap::source::Error::Render(_)) => {
                Status::Unrecoverable
            }
            Error::Interrupted => Status::Aborted,
            _ => Status::Error,
        }
    }

    /// Every reason behind the error, one line each (each object that
    /// could not be applied…); the error's own line when it has one cause.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Error::NeverApplied(e) | Error::NotReapplied(e) => e.reasons(),
            // A wait that timed out: the error, then the Events of what it
            // was waiting for.
            Error::NotSteady(crate::drill::probe::observer::Error::TimedOut { events, .. })
            | Error::NotRecovered(crate::drill::probe::observer::Error::TimedOut {
                events, ..
            }) if !events.is_empty() => std::iter::once(self.chain())
                .chain(events.iter().cloned())
                .collect(),
            Error::NotCovered { reasons, .. } if !reasons.is_empty() => reasons.clone(),
            other => vec![other.chain()],
        }
    }

    /// The message with its causes, on one line
    /// ([`crate::error_chain::ErrorChain`]).
    pub fn chain(&self) -> String {
        crate::error_chain::one_line(self)
    }
}

/// `Result` of the drill modules.
pub type Result<T, E = Error> = std::result::Result<T, E>;
