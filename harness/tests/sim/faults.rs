//! Fault hooks.
