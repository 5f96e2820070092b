//! Typed events the drill runner emits as it goes. Every output — the live
//! terminal view and the report tree the file sinks render — is built by
//! consuming them, so all formats agree (cargo-nextest's reporter design).

use std::time::Duration;

use crate::clock::Clock;
use crate::report::tree::{PhaseGroup, RepeatReport, RunReport, ScenarioReport, Status};

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run begins.
    RunStarted {
        /// Run id.
        run_id: String,
        /// Number of scenarios.
        scenarios: usize,
        /// Scenarios run at once.
        parallel: usize,
    },
    /// A scenario begins.
    ScenarioStarted {
        /// Scenario name.
        scenario: String,
        /// Number of repeats.
        repeats: u32,
    },
    /// One repeat of a scenario begins.
    RepeatStarted {
        /// Scenario name.
        scenario: String,
        /// 1-based repeat index.
        repeat: u32,
        /// The repeat's clock (the cluster's: simulated on the simulator),
        /// so live views can show elapsed cluster time.
        clock: Clock,
    },
    /// A phase begins.
    PhaseStarted {
        /// Scenario name.
        scenario: String,
        /// Repeat index.
        repeat: u32,
        /// Phase name.
        phase: String,
        /// Phase group.
        group: PhaseGroup,
        /// Budget, when the scenario sets one.
        budget: Option<Duration>,
    },
    /// What a running phase is waiting for now (one line, replaces the previous).
    PhaseProgress {
        /// Scenario name.
        scenario: String,
        /// Repeat index.
        repeat: u32,
        /// Phase name.
        phase: String,
        /// E.g. `waiting for 2/3 Kustomizations Ready`.
        detail: String,
    },
    /// A phase ends.
    PhaseFinished {
        /// Scenario name.
        scenario: String,
        /// Repeat index.
        repeat: u32,
        /// Phase name.
        phase: String,
        /// Outcome.
        status: Status,
        /// Duration on the cluster's clock.
        duration: Duration,
        /// Budget, when set.
        budget: Option<Duration>,
    },
    /// A notable moment inside a phase.
    Operation {
        /// Scenario name.
        scenario: String,
        /// Repeat index.
        repeat: u32,
        /// What happened.
        what: String,
    },
    /// Something people must read now (manual recovery instructions, how to
    /// reach retained clusters, cleanup problems).
    Notice {
        /// Scenario name, when it concerns one.
        scenario: Option<String>,
        /// The text (may span lines).
        text: String,
    },
    /// A repeat ends.
    RepeatFinished {
        /// Scenario name.
        scenario: String,
        /// Its report.
        report: Box<RepeatReport>,
    },
    /// A scenario ends.
    ScenarioFinished {
        /// Its report.
        report: Box<ScenarioReport>,
    },
    /// The run ends (also when aborted: the report says so).
    RunFinished {
        /// The whole report.
        report: Box<RunReport>,
    },
}
