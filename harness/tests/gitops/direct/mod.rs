//! The direct bootstrap method against the simulator.

mod reconciler;
