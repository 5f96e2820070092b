//! The report tree: run → scenario → repeat → phase, with operations inside
//! phases. Every sink (terminal summary, JSON, JUnit, Markdown, HTML) renders
//! this one tree; `report.json` is its serialisation, so its shape is part of
//! the interface (documented in the README).
//!
//! Times are offsets from the start of the repeat on the **cluster's clock**
//! (simulated on the simulator, wall elsewhere; see [`TimeBase`]), in
//! milliseconds, so reports are reproducible and easy to plot. Wall-clock
//! figures (`wall_ms`) are kept separately, for the harness's own cost.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::clock::TimeBase;

/// The version of the report format, bumped on incompatible changes.
pub const REPORT_FORMAT: &str = "gameday.report/v1";

/// Outcome of a node of the tree. A parent's status is derived from its
/// children: the worst one wins (see [`Status::worst`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Ran and met every objective.
    Passed,
    /// Ran and missed an objective (a budget, an expectation).
    Failed,
    /// Not drilled: the source uses what the simulator does not emulate
    /// (a kind no controller reconciles, a spec field that is ignored), so
    /// no verdict on it could be true. Found before any cluster starts.
    Unsupported,
    /// The source never reached its steady state before the disaster (an
    /// object that cannot be applied, nothing rendered, a Kustomization
    /// never Ready): a finding about the repository, not the provider.
    Unrecoverable,
    /// Could not be carried out (a provider or tool failed).
    Error,
    /// Interrupted (Ctrl-C) before it finished.
    Aborted,
}

impl Status {
    /// Every status, from the best to the worst.
    pub const ALL: [Status; 6] = [
        Status::Passed,
        Status::Failed,
        Status::Unsupported,
        Status::Unrecoverable,
        Status::Error,
        Status::Aborted,
    ];

    /// The more severe of two statuses (aborted > error > unrecoverable >
    /// unsupported > failed > passed).
    pub fn worst(self, other: Status) -> Status {
        self.max(other)
    }

    /// A finding about the source (unsupported, unrecoverable): the drill
    /// did not get to judge recovery, and the reason is in the repeat's
    /// `error`, as for [`Status::Error`].
    pub fn is_finding(self) -> bool {
        matches!(self, Status::Unsupported | Status::Unrecoverable)
    }

    /// Lower-case name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Unsupported => "unsupported",
            Status::Unrecoverable => "unrecoverable",
            Status::Error => "error",
            Status::Aborted => "aborted",
        }
    }
}

/// A whole `gameday run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Always [`REPORT_FORMAT`].
    pub format: String,
    /// Run id (also part of cluster names: `gameday-<scenario>-<run id>`).
    pub run_id: String,
    /// gameday version that produced the report.
    pub gameday_version: String,
    /// Wall-clock start, RFC 3339.
    pub started_at: String,
    /// Wall time the whole run took, milliseconds.
    pub wall_ms: u64,
    /// The worst status of the scenarios (aborted when interrupted).
    pub status: Status,
    /// Scenarios in the order they were given.
    pub scenarios: Vec<ScenarioReport>,
    /// The share of the catalogue this run drilled (`--partition K/N`);
    /// absent for a whole catalogue and for a merged report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<PartitionInfo>,
}

/// Which partition of which catalogue a run drilled, so that
/// `gameday report merge` can check the partitions it is given are one
/// catalogue's, complete and without overlap, and restore its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionInfo {
    /// K, 1-based.
    pub index: u32,
    /// N.
    pub total: u32,
    /// The names of every scenario of the whole catalogue, in run order
    /// (after `--provider` skipped those it cannot carry out).
    pub catalogue: Vec<String>,
}

/// One scenario and its repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// `metadata.name`.
    pub name: String,
    /// The scenario file.
    pub file: String,
    /// `metadata.description`.
    pub description: String,
    /// Provider used (`sim`, `kind`, …).
    pub provider: String,
    /// Which clock the durations are on.
    pub time_base: TimeBase,
    /// Fault names, in order.
    pub disaster: Vec<String>,
    /// Recovery method name.
    pub recovery: String,
    /// The budgets the verdict is judged on.
    pub objective: Objective,
    /// Each repeat.
    pub repeats: Vec<RepeatReport>,
    /// Statistics over repeats, per recovery phase and for the total.
    pub stats: Vec<PhaseStats>,
    /// The verdict over all repeats (the quantile of `objective`).
    pub verdict: Verdict,
    /// The worst of the repeats' statuses and the verdict.
    pub status: Status,
    /// This scenario's figures compared with a baseline report
    /// (`gameday run --baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<super::compare::ScenarioComparison>,
}

/// RTO budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objective {
    /// Total budget, ms.
    pub total_ms: u64,
    /// Per-phase budgets, ms, by phase name.
    pub phases_ms: BTreeMap<String, u64>,
    /// Quantile of the repeats judged (`p95`, `max`…).
    pub quantile: String,
}

/// Whether the objective was met, and by how much.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// True when every budget and expectation was met.
    pub passed: bool,
    /// One entry per budget checked.
    pub budgets: Vec<BudgetCheck>,
    /// Human-readable reasons for failure (`converge 3m40s > budget 3m`,
    /// `lost ConfigMap/podinfo/x`), empty when passed.
    pub failures: Vec<String>,
}

/// One budget compared with the measured value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetCheck {
    /// Phase name, or `total`.
    pub phase: String,
    /// The budget, ms.
    pub budget_ms: u64,
    /// The measured value judged (a single repeat's, or the quantile), ms;
    /// None when the phase never completed.
    pub actual_ms: Option<u64>,
    /// budget − actual, ms (negative when over budget).
    pub margin_ms: Option<i64>,
    /// Whether it was met.
    pub passed: bool,
}

/// Statistics of one phase (or `total`) over the repeats that completed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseStats {
    /// Phase name, or `total`.
    pub phase: String,
    /// Number of samples.
    pub samples: u32,
    /// Median, ms.
    pub p50_ms: u64,
    /// 95th percentile, ms.
    pub p95_ms: u64,
    /// Maximum, ms.
    pub max_ms: u64,
}

/// One run of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatReport {
    /// 1-based index.
    pub index: u32,
    /// Seed used (simulator jitter).
    pub seed: u64,
    /// Outcome.
    pub status: Status,
    /// Every phase, preparation ones included, in the order they ran.
    pub phases: Vec<PhaseReport>,
    /// Disaster → steady state restored, ms on the cluster's clock (None
    /// when recovery never completed).
    pub recovery_ms: Option<u64>,
    /// Budgets checked for this repeat.
    pub verdict: Verdict,
    /// What the snapshot diff found.
    pub diff: StateDiff,
    /// The error that stopped the repeat, when status is error or aborted.
    pub error: Option<String>,
    /// Every reason behind `error`, one line each (each object that could
    /// not be applied, each object the snapshot missed); the terminal shows
    /// the first, the HTML report all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// How much of the source the steady state covered (None when the
    /// drill stopped before the steady state was judged).
    #[serde(default)]
    pub coverage: Option<Coverage>,
    /// Wall time of the repeat, ms.
    pub wall_ms: u64,
}

/// How much of the source a repeat's steady state covered: a pass is only
/// true when every object the source renders was applied and is held by
/// the pre-disaster snapshot that recovery is checked against.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Objects the source path renders (Flux Kustomizations of the same
    /// source followed, as `plan` does; with Flux they count themselves).
    pub rendered: u32,
    /// Objects the GitOps tooling applied (the direct applier's inventory,
    /// or the union of the Kustomizations' `status.inventory`).
    pub applied: u32,
    /// Applied objects the pre-disaster snapshot holds, which the
    /// post-recovery diff compares.
    pub covered: u32,
}

impl Coverage {
    /// `3 rendered, 3 applied, 3 covered by the steady state`.
    pub fn describe(&self) -> String {
        format!(
            "source: {} rendered, {} applied, {} covered by the steady state",
            self.rendered, self.applied, self.covered
        )
    }
}

/// Where a phase belongs in the drill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseGroup {
    /// Before the disaster: provision, bootstrap, steady state, setup, snapshot.
    Preparation,
    /// Injecting the faults.
    Disaster,
    /// The timed recovery phases (those with budgets).
    Recovery,
    /// After recovery: snapshot diff, teardown.
    Verification,
}

/// One phase of a repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseReport {
    /// Name (`provision`, `steady-state`, `disaster`, `converge`, …).
    pub name: String,
    /// Group.
    pub group: PhaseGroup,
    /// Start, ms from the start of the repeat (cluster clock).
    pub start_ms: u64,
    /// End, ms from the start of the repeat; None when it never ended.
    pub end_ms: Option<u64>,
    /// Budget, ms, when the scenario sets one.
    pub budget_ms: Option<u64>,
    /// Outcome: failed when over budget or timed out.
    pub status: Status,
    /// Wall time spent in the phase, ms.
    pub wall_ms: u64,
    /// Wall ms between the cluster reaching the phase's end state and the
    /// harness recording it (simulator only: the harness's own overhead).
    pub observe_lag_ms: Option<f64>,
    /// Notable moments inside the phase.
    pub operations: Vec<Operation>,
    /// Why it failed, when it did.
    pub message: Option<String>,
}

impl PhaseGroup {
    /// Lower-case name, as in the JSON.
    pub fn name(self) -> &'static str {
        match self {
            PhaseGroup::Preparation => "preparation",
            PhaseGroup::Disaster => "disaster",
            PhaseGroup::Recovery => "recovery",
            PhaseGroup::Verification => "verification",
        }
    }
}

impl PhaseReport {
    /// Duration, ms, when the phase ended.
    pub fn duration_ms(&self) -> Option<u64> {
        self.end_ms.map(|e| e.saturating_sub(self.start_ms))
    }
}

/// A notable moment: a fault injected, a revert committed, a cluster created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// When, ms from the start of the repeat (cluster clock).
    pub at_ms: u64,
    /// What happened, one line.
    pub what: String,
}

/// The difference between the snapshots before the disaster and after recovery.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StateDiff {
    /// Objects compared (in the snapshot before the disaster).
    pub compared: u32,
    /// Present before, absent after.
    pub lost: Vec<DiffEntry>,
    /// Present in both, with different spec/data.
    pub changed: Vec<DiffEntry>,
    /// Absent before, present after.
    pub extra: Vec<DiffEntry>,
}

/// One object in the diff.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DiffEntry {
    /// `Kind/namespace/name` (or `Kind/name`).
    pub object: String,
    /// True when `expect.lost` allows it (lost entries only).
    pub allowed: bool,
    /// For changed objects: the differing fields, as JSON paths.
    pub fields: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn statuses_are_ordered_from_best_to_worst_and_named_as_in_the_json() {
        for pair in Status::ALL.windows(2) {
            assert!(pair[0] < pair[1], "{:?} before {:?}", pair[0], pair[1]);
            assert_eq!(pair[0].worst(pair[1]), pair[1]);
        }
        for s in Status::ALL {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
        assert!(Status::Unrecoverable.is_finding() && Status::Unsupported.is_finding());
        assert!(!Status::Failed.is_finding() && !Status::Error.is_finding());
    }
}
