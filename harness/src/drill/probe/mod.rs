//! Probes: watch-based observation of the cluster's state, and the pure
//! judgements they apply to objects.

pub mod checks;
pub mod infra;
pub mod observer;
