//! The GitOps layer: the apply engine and bootstrap.
//!
//! - [`apply`]: server-side apply of a set of objects in dependency order,
//!   with pruning by inventory and watch-based health waits; used by both
//!   bootstrap methods and by the simulator's emulated Flux.

pub mod apply;
