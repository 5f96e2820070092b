//! Drills: the runner, and one repeat of a scenario as a pipeline —
//! `prepare` → `disaster` (one file per fault under `fault/`) →
//! `recover` → `verify` ([`repeat`]) — over a [`context::Context`] that
//! never changes and a `Target` (the cluster, its source and GitOps
//! tooling) that the stages break and rebuild. The watch-based probe
//! ([`probe`]), snapshots and their diff ([`snapshot`]) and the timeline
//! the phases are recorded on ([`timeline`]) serve every stage. On the
//! simulator, [`preflight`] checks the source against what the simulator
//! emulates before any cluster starts.

pub mod context;
mod coverage;
mod disaster;
pub mod error;
pub mod events;
pub mod fault;
pub mod preflight;
mod prepare;
pub mod probe;
pub mod pushable;
mod recover;
pub mod repeat;
pub mod requirements;
pub mod runner;
pub mod snapshot;
mod target;
pub mod timeline;
mod verify;
