//! What an apply did, object by object, and how long it took.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;

use super::error::{Error, ObjectError, Result};
use super::inventory::Inventory;
use super::object::{ObjectId, Versioned};
use super::order::Stage;

/// What happened to one object (Flux's change-set actions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// It did not exist and was created.
    Created,
    /// It existed and changed.
    Configured,
    /// It existed and already matched.
    Unchanged,
    /// It could not be applied.
    Failed(ObjectError),
}

impl Action {
    /// `created`, `configured`, `unchanged` or `failed`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Configured => "configured",
            Action::Unchanged => "unchanged",
            Action::Failed(_) => "failed",
        }
    }
}

/// The outcome of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectOutcome {
    /// The object (its namespace as applied).
    pub object: Versioned,
    /// Where it was defined.
    pub origin: Option<String>,
    /// The stage it was applied in (None when it never got that far).
    pub stage: Option<Stage>,
    /// What happened.
    pub action: Action,
    /// Wall time of its request(s).
    pub took: Duration,
}

impl ObjectOutcome {
    /// The object's identity.
    pub fn id(&self) -> &ObjectId {
        &self.object.id
    }
}

/// `Deployment/podinfo/podinfo configured`, like Flux's change-set lines.
impl fmt::Display for ObjectOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.object.id, self.action.name())
    }
}

/// Wall time of one stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageTiming {
    /// The stage.
    pub stage: Stage,
    /// Objects applied in it.
    pub objects: usize,
    /// Wall time, including the wait for CRDs after the first stage.
    pub took: Duration,
}

/// The result of [`super::Applier::apply`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    /// One outcome per manifest, in apply order (failures of manifests that
    /// never reached a stage come first).
    pub outcomes: Vec<ObjectOutcome>,
    /// Per-stage wall times.
    pub stages: Vec<StageTiming>,
    /// Wall time of the whole apply.
    pub took: Duration,
    /// Cluster-clock time when the apply started.
    pub started_at: Timestamp,
    /// Cluster-clock time when it finished.
    pub finished_at: Timestamp,
}

impl ApplyReport {
    /// The objects that failed.
    pub fn failures(&self) -> Vec<&ObjectError> {
        self.outcomes
            .iter()
            .filter_map(|o| match &o.action {
                Action::Failed(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// True when every object was applied.
    pub fn is_ok(&self) -> bool {
        self.failures().is_empty()
    }

    /// How many objects had `action` (compared by name).
    pub fn count(&self, action: &str) -> usize {
        self.outcomes
            .iter()
            .filter(|o| o.action.name() == action)
            .count()
    }

    /// The objects that were applied (not failed), in apply order.
    pub fn applied(&self) -> impl Iterator<Item = &Versioned> {
        self.outcomes
            .iter()
            .filter(|o| !matches!(o.action, Action::Failed(_)))
            .map(|o| &o.object)
    }

    /// The inventory of the applied objects (Flux's `status.inventory`).
    pub fn inventory(&self) -> Inventory {
        Inventory::from_objects(self.applied())
    }

    /// Objects per second over the whole apply (wall time).
    pub fn objects_per_second(&self) -> f64 {
        let secs = self.took.as_secs_f64();
        if secs > 0.0 {
            self.outcomes.len() as f64 / secs
        } else {
            f64::INFINITY
        }
    }

    /// `Ok(self)` when every object was applied.
    ///
    /// # Errors
    /// [`Error::Apply`] listing every failed object.
    pub fn check(self) -> Result<ApplyReport> {
        let failures: Vec<ObjectError> = self.failures().into_iter().cloned().collect();
        if failures.is_empty() {
            Ok(self)
        } else {
            Err(Error::Apply {
                failures,
                total: self.outcomes.len(),
            })
        }
    }

    /// The lines Flux logs for changed objects (`Kind/ns/name created`…),
    /// one per created or configured object.
    pub fn change_log(&self) -> String {
        self.outcomes
            .iter()
            .filter(|o| matches!(o.action, Action::Created | Action::Configured))
            .map(|o| format!("{o}\n"))
            .collect()
    }
}

/// Why a stale object was left in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// It carries `kustomize.toolkit.fluxcd.io/prune: disabled`.
    PruneDisabled,
    /// It lacks the owner labels of this applier: someone else's now.
    NotOwned,
    /// It was already gone.
    Gone,
}

/// The result of [`super::Applier::prune`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Deleted objects, in deletion order.
    pub deleted: Vec<ObjectId>,
    /// Objects left in place, and why.
    pub skipped: Vec<(ObjectId, Skip)>,
    /// Objects that could not be deleted.
    pub failed: Vec<ObjectError>,
    /// Wall time.
    pub took: Duration,
}

impl PruneReport {
    /// `Ok(self)` when nothing failed.
    ///
    /// # Errors
    /// [`Error::Prune`] listing the objects that could not be deleted.
    pub fn check(self) -> Result<PruneReport> {
        if self.failed.is_empty() {
            Ok(self)
        } else {
            Err(Error::Prune {
                failures: self.failed,
            })
        }
    }

    /// Flux's `Kind/ns/name deleted` lines.
    pub fn change_log(&self) -> String {
        self.deleted
            .iter()
            .map(|id| format!("{id} deleted\n"))
            .collect()
    }
}

/// The result of a successful [`super::Applier::wait_healthy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// How many objects were checked.
    pub objects: usize,
    /// Time on the cluster's clock the wait took.
    pub took: Duration,
}
