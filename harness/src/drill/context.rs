//! What one repeat of a drill knows from its first phase to its last, and
//! never changes: the scenario, the timeline its phases are recorded on,
//! and what the cluster provider is given (run id, the repeat's folder,
//! its clock, seed and cleanup registry, the user's confirmation, the
//! programs it may start).
//!
//! The runner builds it once per repeat; every stage of the pipeline
//! borrows it. What changes as the drill goes (the cluster, its GitOps
//! tooling, what the disaster broke) flows from stage to stage as values
//! (the `Target`, what `prepare` returns, the `Damage` of the disaster).

use std::path::Path;
use std::sync::Arc;

use super::timeline::Timeline;
use crate::clock::Clock;
use crate::cluster;
use crate::scenario::model::Scenario;

/// Everything a repeat starts from (see the module docs).
#[derive(Debug, Clone)]
pub struct Context {
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// The repeat's timeline (the runner keeps a clone).
    pub timeline: Timeline,
    /// What the cluster provider is given: run id, the repeat's folder,
    /// clock, seed, cleanup registry (the runner runs it), the user's
    /// confirmation of destructive faults, the programs it may start.
    pub provider: cluster::Context,
}

impl Context {
    /// The scenario.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// The timeline.
    pub fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// The repeat's clock: virtual on the simulator.
    pub fn clock(&self) -> &Clock {
        &self.provider.clock
    }

    /// The repeat's folder (deleted by the cleanup registry unless retained).
    pub fn dir(&self) -> &Path {
        &self.provider.dir
    }
}
