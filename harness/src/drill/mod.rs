//! Drills: the runner, faults, probes, snapshots and RTO verdicts.

pub mod error;
mod fault;
pub mod gitops;
pub mod probe;
mod recovery;
pub mod repeat;
pub mod runner;
pub mod snapshot;
pub mod timeline;
