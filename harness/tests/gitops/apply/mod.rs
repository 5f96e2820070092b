//! The apply engine against the simulator.

mod batch;
mod failures;
mod health;
mod prune;
