//! Drill machinery against the simulator over HTTP: probes, faults, the runner.

#[path = "../common/mod.rs"]
mod common;

mod catalogue;
mod helm;
mod observer;
mod support;
mod truthful;
mod unemulated;
mod verdicts;
