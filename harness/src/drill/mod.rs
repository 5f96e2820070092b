//! Drills: the runner, faults, probes, snapshots and RTO verdicts.

pub mod events;
pub mod probe;
pub mod snapshot;
pub mod timeline;
