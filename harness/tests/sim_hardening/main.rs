//! Issue 19's probes, as a careless or hostile local user would run them,
//! each bounded in time (timeouts) and in count (how many requests,
//! connections or repeats): `cargo nextest run --test sim_hardening`.
//!
//! The probes of the API server's connection and in-flight limits are in
//! `tests/sim/limits.rs`, those of bad input in `tests/sim/bad_input.rs`.

#[path = "../sim/common.rs"]
#[allow(dead_code)]
mod common;
mod debug;
mod kubeconfig;
mod memory;
mod strict;
