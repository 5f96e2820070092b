//! The direct bootstrap method against the simulator.

mod bad_input;
mod reconciler;
