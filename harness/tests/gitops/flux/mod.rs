//! Bootstrap with Flux against the simulator's emulated Flux, and the
//! emulation itself.

mod bad_input;
mod drift;
mod podinfo;
mod prune;
mod shop;
pub mod world;
