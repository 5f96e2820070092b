//! Bootstrap with Flux against the simulator's emulated Flux, and the
//! emulation itself.

mod bad_input;
mod build;
mod controller_loss;
mod drift;
mod helm;
mod helm_remediation;
mod helm_sources;
mod install;
mod oci_sources;
mod podinfo;
mod prune;
mod secrets;
mod shop;
mod source;
mod source_filter;
mod timing;
pub mod world;
