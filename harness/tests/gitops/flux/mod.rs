//! Bootstrap with Flux against the simulator's emulated Flux, and the
//! emulation itself.

mod podinfo;
mod world;
